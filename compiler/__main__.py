"""`python -m compiler` runs the clawpolicy CLI."""

from .cli.main import main

if __name__ == "__main__":
    main()
