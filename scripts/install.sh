#!/usr/bin/env bash
# Installs memgate for the action: nothing if a memgate of the wanted version is on PATH;
# a release binary checked against the SHA-256 recorded below where there is one for this
# runner; else `cargo install --locked` from the action's own source.
set -euo pipefail

action_dir="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}"
source_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$action_dir/Cargo.toml" | head -n 1)
wanted="${MEMGATE_VERSION:-$source_version}"

# The binary's path and SHA-256, for the step that posts the comment to check before it
# runs it: the benchmarks run in between, as the same user.
record() {
  local bin
  bin=$(command -v memgate)
  {
    echo "bin=$bin"
    echo "sha256=$(sha256sum "$bin" | cut -d' ' -f1)"
  } >> "${GITHUB_OUTPUT:-/dev/null}"
}

# A comment job (MEMGATE_FRESH names the report it will post) trusts no memgate already on
# the machine: a self-hosted runner keeps what earlier jobs, benchmarks included, left.
# It installs into this job's own folder ($RUNNER_TEMP is emptied when a job starts).
if [ -n "${MEMGATE_FRESH:-}" ]; then
  root="${RUNNER_TEMP:?RUNNER_TEMP is not set}/memgate-fresh"
  if [ ! -x "$root/bin/memgate" ]; then
    cargo install --locked --quiet --path "$action_dir" --root "$root"
  fi
  echo "memgate $("$root/bin/memgate" --version | cut -d' ' -f2) in $root/bin, for this job alone"
  PATH="$root/bin:$PATH" record
  exit 0
fi

if command -v memgate >/dev/null 2>&1 && [ "$(memgate --version)" = "memgate $wanted" ]; then
  echo "memgate $wanted is installed: $(command -v memgate)"
  record
  exit 0
fi

# Release binaries and their SHA-256, per version and target. None is published yet:
# every runner builds from source until a release adds its line here.
#   "<version> <target> <sha256>"
checksums=""

target="$(uname -m)-unknown-linux-gnu"
sum=$(printf '%s\n' "$checksums" | awk -v v="$wanted" -v t="$target" '$1 == v && $2 == t { print $3 }')
if [ -n "$sum" ] && [ -n "${MEMGATE_VERSION:-}" ]; then
  url="https://github.com/${MEMGATE_REPOSITORY:-memgate/memgate}/releases/download/v$wanted/memgate-$target.tar.gz"
  dir=$(mktemp -d)
  curl --fail --silent --show-error --location --output "$dir/memgate.tar.gz" "$url"
  echo "$sum  $dir/memgate.tar.gz" | sha256sum --check --quiet
  tar -xzf "$dir/memgate.tar.gz" -C "$dir"
  install -m 0755 "$dir/memgate" "$HOME/.cargo/bin/memgate" 2>/dev/null || {
    mkdir -p "$HOME/.local/bin" && install -m 0755 "$dir/memgate" "$HOME/.local/bin/memgate"
    echo "$HOME/.local/bin" >> "${GITHUB_PATH:-/dev/null}"
  }
  echo "memgate $wanted installed from the release, checksum verified"
  PATH="$HOME/.cargo/bin:$HOME/.local/bin:$PATH" record
  exit 0
fi

if [ -n "${MEMGATE_VERSION:-}" ] && [ "$MEMGATE_VERSION" != "$source_version" ]; then
  echo "::error title=memgate::no release binary of memgate $MEMGATE_VERSION for $target, and this action's source is $source_version: use the action at v$MEMGATE_VERSION"
  exit 1
fi
cargo install --locked --quiet --path "$action_dir"
echo "memgate $source_version built from source"
PATH="$HOME/.cargo/bin:$PATH" record
