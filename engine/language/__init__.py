"""The plan language: numbered call lines, their arguments' schemas, their grammar, web services.

Owns: the streaming parser (`parser`), tool signatures and argument checks (`schema`),
the GBNF grammar built from them (`grammar`) and web services as calls (`services`).
May import: `core` only.
"""
