"""The config file: its model (``settings``), its sections grouped by theme (``ranking``,
``infrastructure``, ``delivery``, ``api``), team profiles (``profiles``) and how a file
becomes them (``loading``)."""

from arxiv_digest.config.infrastructure import (
    AISummarySettings,
    ArxivEndpoints,
    FeedSettings,
    HttpSettings,
    OutputSettings,
    ScheduleSettings,
    StoreSettings,
    SummaryInput,
)
from arxiv_digest.config.loading import (
    check_files,
    load_settings,
    parse_settings,
    resolve_config_path,
    with_paths_resolved,
)
from arxiv_digest.config.ranking import (
    Keyword,
    LibrarySource,
    RelevanceSettings,
    RelevanceWeights,
    ScoringSettings,
    TriageSettings,
    ZoteroSource,
)
from arxiv_digest.config.settings import (
    CONFIG_ENV,
    DEDUP_METHODS,
    DEFAULT_ANNOUNCE_TYPES,
    IGNORED_LEGACY_KEYS,
    STORE_URL_ENV,
    Settings,
)

__all__ = [
    "CONFIG_ENV",
    "DEDUP_METHODS",
    "DEFAULT_ANNOUNCE_TYPES",
    "IGNORED_LEGACY_KEYS",
    "STORE_URL_ENV",
    "AISummarySettings",
    "ArxivEndpoints",
    "FeedSettings",
    "HttpSettings",
    "Keyword",
    "LibrarySource",
    "OutputSettings",
    "RelevanceSettings",
    "RelevanceWeights",
    "ScheduleSettings",
    "ScoringSettings",
    "Settings",
    "StoreSettings",
    "SummaryInput",
    "TriageSettings",
    "ZoteroSource",
    "check_files",
    "load_settings",
    "parse_settings",
    "resolve_config_path",
    "with_paths_resolved",
]
