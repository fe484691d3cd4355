"""RFC 3161 timestamps: the platform TSA (a pure request → response function) and a client."""
