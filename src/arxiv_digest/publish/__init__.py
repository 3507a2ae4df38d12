"""Turning a Digest into files: the README today; the static site and feeds next."""
