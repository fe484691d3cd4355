"""Trust lists for mutual recognition: the document model, signing, loading and the registry."""
