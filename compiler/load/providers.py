"""Stage 1 (part): an environment's provider accounts, checked: ids OpenClaw accepts, an
`api_key` that is an env reference and never a literal, and a `base_url` that carries no
credential (user info, a key in the query string). Secrets are never echoed back (PC107).
"""

from ..diagnostics import Span, error
from ..redaction import looks_secret, shown
from .filereader import FileReader, LoadedFile
from .project import Provider
from .spec import ENV_VAR_RE, PROVIDER_ID_RE, EnvRefSpec, ProviderSpec


def check_providers(reader: FileReader, loaded: LoadedFile) -> tuple[Provider, ...]:
    providers = []
    for provider_id, provider in loaded.spec.providers.items():
        where = ("providers", provider_id)
        span = loaded.source_map.keys.get(where, Span(loaded.path, 1, 1))
        if not PROVIDER_ID_RE.fullmatch(provider_id):
            reader.problems.append(
                error(
                    "PC103",
                    f"provider id {shown(provider_id, 'id')} is invalid",
                    span,
                    "note: provider ids must match ^[a-z][a-z0-9_-]{0,63}$",
                )
            )
        url_span = loaded.source_map.values.get((*where, "base_url"), span)
        _check_base_url(reader, provider_id, provider, url_span)
        key = provider.api_key
        key_span = loaded.source_map.values.get((*where, "api_key"), span)
        if isinstance(key, str):
            reader.problems.append(
                error(
                    "PC107",
                    f"provider '{provider_id}' has a literal api_key",
                    key_span,
                    "note: secrets never go into policy files or rendered output",
                    "hint: write api_key: {env: NAME} and set NAME where OpenClaw runs",
                )
            )
        elif isinstance(key, EnvRefSpec) and not ENV_VAR_RE.fullmatch(key.env):
            reader.problems.append(
                error(
                    "PC107",
                    f"provider '{provider_id}' api_key.env is not an environment variable name",
                    key_span,
                    "note: the value is not shown, in case it is a pasted secret",
                    "note: OpenClaw env SecretRef ids must match ^[A-Z][A-Z0-9_]{0,127}$",
                )
            )
        providers.append(Provider(provider_id, provider, span))
    if not providers and not loaded.spec.promote_from:
        reader.problems.append(
            error("PC102", "environment declares no providers", Span(loaded.path, 1, 1))
        )
    return tuple(providers)


def _check_base_url(
    reader: FileReader, provider_id: str, provider: ProviderSpec, span: Span
) -> None:
    """A key pasted into the URL (`?api_key=...`, `https://user:pass@...`) would be rendered
    and committed: refuse it without showing it."""
    if looks_secret(provider.base_url):
        reader.problems.append(
            error(
                "PC107",
                f"provider '{provider_id}' base_url carries a secret-looking value; "
                "it is not shown",
                span,
                "note: secrets never go into policy files or rendered output",
                "hint: keep only the endpoint in base_url and write api_key: {env: NAME}",
            )
        )
