"""The movie corpus: read the shared data, merge the sources, build and extend the store."""
