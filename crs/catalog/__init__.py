"""Movie records, title normalisation, the movie store and the title linker."""
