# The project's binaries in one image, for components a stand runs as
# containers (run: container) and for the registry on the containers
# backend. `make containers-images` builds the binaries static into
# .cache/containers/bin first: the image pulls nothing.
FROM scratch
COPY .cache/containers/bin/ /usr/local/bin/
ENV PATH=/usr/local/bin
ENTRYPOINT ["/usr/local/bin/stand"]
