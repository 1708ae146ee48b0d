# Integrations Hub as a container: the binary and its UI site on a minimal glibc base (no shell,
# no package manager), as a non-root user, data on a volume. Build it with scripts/docker-build.sh,
# which compiles on the host (cargo leptos build --release) and then runs `docker build`: the
# image only packages what the host built, so no Rust toolchain image is needed.
#
# The base is Google's distroless "cc" image (glibc, libgcc, CA certificates, user 65532). Where
# no registry is reachable, scripts/docker-base.sh makes an equivalent from the host's own Debian
# files and scripts/docker-build.sh passes it as BASE_IMAGE. The binary links against the host's
# glibc: build on Debian 12 (glibc 2.36) or older, as the base has 2.36.
ARG BASE_IMAGE=gcr.io/distroless/cc-debian12:nonroot
FROM ${BASE_IMAGE}

# scripts/docker-build.sh puts a stripped copy of the release (or, for the tests, debug) binary here.
COPY target/docker/integrations-hub /usr/local/bin/integrations-hub
COPY target/site /usr/local/share/integrations-hub/site
COPY --chown=65532:65532 deploy/docker/data /data

ENV IH_BIND=0.0.0.0:3000 \
    IH_DATA_DIR=/data \
    IH_SITE_ROOT=/usr/local/share/integrations-hub/site
USER 65532:65532
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/integrations-hub", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/integrations-hub"]
