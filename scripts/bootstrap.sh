#!/usr/bin/env bash
# Usage: scripts/bootstrap.sh [--dev] [DEBIAN_PACKAGE...]
# Installs the Debian packages named (when missing and running as root), then creates .venv and installs
# requirements.txt into it, with --dev also requirements-dev.txt (tests and tooling); each again only when
# that file changed.
set -euo pipefail
cd "$(dirname "$0")/.."
files=(requirements.txt)
if [ "${1:-}" = --dev ]; then files+=(requirements-dev.txt); shift; fi

missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ! python3 -c "import ensurepip, venv" 2>/dev/null; then missing+=(python3-venv); fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
      || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
  else
    echo "bootstrap: missing Debian packages (run as root or install them): ${missing[*]}" >&2
  fi
fi

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
for file in "${files[@]}"; do
  stamp=.venv/.installed-$file-$(sha1sum "$file" | cut -c1-16)
  [ -f "$stamp" ] && continue
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  # fasttext-numpy2 (installed by earlier versions) ships the same `fasttext` module: never keep both.
  .venv/bin/pip uninstall --quiet -y fasttext-numpy2 >/dev/null 2>&1 || true
  .venv/bin/pip install --quiet --disable-pip-version-check -r "$file"
  rm -f .venv/.installed-"$file"-* && touch "$stamp"
done
