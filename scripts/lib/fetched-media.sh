# Sourced by the scripts that fetch test media from packages into a cache folder checked
# against a SHA256SUMS file. The caller sets `name`, `sums` and `dest`, then calls
# `media_begin` (prints `dest` and exits when it already holds exactly those files; otherwise
# makes `tmp` and `out`), copies its files into `out`, and calls `media_install`.
say() { printf '%s: %s\n' "$name" "$*" >&2; }

media_begin() {
  if cmp -s "$sums" "$dest/SHA256SUMS" && (cd "$dest" && sha256sum --quiet --check SHA256SUMS >/dev/null 2>&1); then
    echo "$dest"
    exit 0
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  out="$tmp/out"
  mkdir -p "$out"
}

# Downloads one Debian package (name=version) into `tmp`, updating the lists once if needed.
get() {
  (cd "$tmp" && { apt-get download -qq "$1" 2>/dev/null || { apt-get update -qq && apt-get download -qq "$1"; }; })
}

media_install() {
  cp "$sums" "$out/SHA256SUMS"
  if ! (cd "$out" && sha256sum --quiet --check SHA256SUMS); then
    say "the files differ from ${sums#"$root"/}: not installed"
    exit 1
  fi
  mkdir -p "$(dirname "$dest")"
  [[ -e $dest ]] && mv "$dest" "$dest.old"
  mv "$out" "$dest"
  rm -rf "$dest.old"
  say "$(wc -l <"$sums") files in $dest"
  echo "$dest"
}
