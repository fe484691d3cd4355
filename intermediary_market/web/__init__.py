"""The marketplace pages: public (marketplace, results, practice pages), the owner's, the
intermediary's and the regulator's workspaces; ``routes`` lists the controllers and public paths.
"""
