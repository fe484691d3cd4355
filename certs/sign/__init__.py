"""Signatures over documents: detached CMS/CAdES over files and records, PAdES over PDFs."""
