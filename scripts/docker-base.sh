#!/usr/bin/env bash
# Makes a local equivalent of the Dockerfile's default base (gcr.io/distroless/cc-debian12:nonroot)
# from this machine's own Debian files, for machines that cannot pull it: the dynamic loader and
# the shared libraries the hub links against, the CA certificates, and passwd/group entries for
# the non-root user 65532. No shell, no package manager. Usage: scripts/docker-base.sh BINARY TAG
set -euo pipefail
binary=${1:?usage: scripts/docker-base.sh BINARY TAG}
tag=${2:?usage: scripts/docker-base.sh BINARY TAG}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

# Every library the binary loads, and the loader itself (ldd lists both with absolute paths).
for lib in $(ldd "$binary" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/home/nonroot"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
chmod 1777 "$root/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$root/etc/group"
# Owned by root whoever runs this (no chown needed: the image's /data is given to 65532 by the
# Dockerfile, and the hub needs no home).
tar -C "$root" --owner=0 --group=0 --numeric-owner -c . | docker import --change 'USER 65532:65532' - "$tag" >/dev/null
echo "made $tag from this machine's files ($(du -sh "$root" | cut -f1))"
