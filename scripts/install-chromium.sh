#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (idempotent). Prints the binary's path.
# With it, fonts for Chinese/Japanese/Korean and emoji: summaries are often in Chinese and
# every paper has 👍/👎, so without them the screenshots in test-artifacts show empty boxes.
set -euo pipefail
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
install() {
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >&2
}
if ! command -v chromium >/dev/null 2>&1; then
  install chromium
fi
fonts=()
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || fonts+=(fonts-noto-cjk)
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || fonts+=(fonts-noto-color-emoji)
if [ "${#fonts[@]}" -gt 0 ]; then
  install --no-install-recommends "${fonts[@]}"
fi
command -v chromium
