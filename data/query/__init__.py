"""The stored query language: text -> Query (language), Query -> search plan (compiler)."""
