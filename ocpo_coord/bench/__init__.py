"""``ocpo-coord bench``: a synthetic theatre at a chosen scale, and the figures that matter.

``generate`` bulk-loads the theatre, ``measure`` times the hot paths against the
database's own floor, ``report`` prints the table and the ratios the targets name.
"""
