# examples/fly/image.mk: the Fly example image, built here for real (included
# by the Makefile). Needs root and Debian's package mirror; no image registry.
#
#   make image        build examples/fly/Dockerfile with buildah from a local
#                     debootstrap'd bookworm (examples/fly/build-image.sh);
#                     caches under /var/cache/flame-image, so a rerun is quick
#   make check-image  boot fly runners in that image through the fake Machines
#                     API and run the README's ffmpeg example on them
#                     (tests/image/t-fly-image.sh). Not part of `make check`,
#                     which must pass without network.

.PHONY: image check-image

image:
	examples/fly/build-image.sh

check-image: image flame flame-link
	FLAME=$(CURDIR)/flame FLAME_IMAGE_ROOTFS="$$(cat build/image/rootfs)" tests/image/t-fly-image.sh
