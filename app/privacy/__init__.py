"""Personal-data rights: a person's data as a download, erasure on request, retention."""
