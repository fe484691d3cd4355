"""PDF documents: Chinese fonts subset once and cached, HTML rendering (WeasyPrint), a base print stylesheet."""
