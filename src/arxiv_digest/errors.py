"""Every failure the tool reports on purpose.

    DigestError            exit status 1 unless stated
    ├── ConfigError        exit status 2: the config file is missing or invalid
    ├── FetchError         arXiv could not be reached or kept failing after retries
    │   └── FeedError      arXiv answered, but not with a feed we can read
    ├── StoreError         the database could not be opened or written
    │   └── RunInProgress  exit status 3: another run holds the store; nothing was done
    ├── SearchError        exit status 2 (HTTP 400): a search that cannot be run as asked
    ├── SummarizeError     one paper could not be summarized (the run goes on without it)
    ├── PublishError       an output file could not be written
    └── DeliveryError      a channel (e-mail, chat) did not get the digest; the README,
                           site and feeds are written all the same

The CLI is the only place that turns these into messages and exit statuses.
"""

from __future__ import annotations


class DigestError(Exception):
    exit_code = 1


class ConfigError(DigestError):
    exit_code = 2


class FetchError(DigestError):
    pass


class FeedError(FetchError):
    pass


class StoreError(DigestError):
    pass


class RunInProgress(StoreError):
    exit_code = 3


class SummarizeError(DigestError):
    pass


class PublishError(DigestError):
    pass


class DeliveryError(DigestError):
    pass


class SearchError(DigestError):
    """The search cannot be run as asked; the message says why, in a few words."""

    exit_code = 2
