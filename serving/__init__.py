"""Model serving: the embedded llama.cpp backend and the client boundary to any server."""
