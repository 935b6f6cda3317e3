"""Reading note files into sections and chunks, and building the index directory."""
