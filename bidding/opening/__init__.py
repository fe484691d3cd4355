"""The remote opening hall (不见面开标, issue 5): the session, online decryption, objections, the record's data."""
