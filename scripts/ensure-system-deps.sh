#!/usr/bin/env bash
# Install the Debian packages named on the command line when they are missing (postgresql, chromium, orthanc).
# Without root or apt-get it only reports; the tests that need a missing part then skip (or fail under CI=true).
set -euo pipefail

missing=()
for pkg in "$@"; do
  case "$pkg" in
    postgresql) compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql) ;;
    chromium) [[ -x /usr/bin/chromium ]] || missing+=(chromium) ;;
    orthanc) [[ -x /usr/sbin/Orthanc ]] || missing+=(orthanc) ;;
    *) dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg") ;;
  esac
done
((${#missing[@]})) || exit 0

echo "Installing Debian packages: ${missing[*]}"
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  apt_get=(apt-get)
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  apt_get=(sudo apt-get)
else
  echo "Cannot install ${missing[*]} (need root and apt-get); tests that need them will be skipped." >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
"${apt_get[@]}" update -qq
# The post-install scripts cannot start services in a container; that is fine, the tests start their own.
"${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || "${apt_get[@]}" install -y -qq "${missing[@]}"
