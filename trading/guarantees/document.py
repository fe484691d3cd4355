"""The guarantee as a document: the canonical JSON data set (domain rules §6.4), its CAdES signature and the
signed Chinese PDF. Pure: no database, no web (the guarantor's client uses it).
"""
