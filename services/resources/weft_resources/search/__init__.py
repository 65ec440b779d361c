"""Search over library items and discussions: a tantivy index on each replica's
local disk, fed from the database (the truth) through the search feed
(storage/search_feed.py, jobs/search_indexer.py).

Who may see a hit is decided inside the query: each indexed document carries
audience tokens (audience.py) and the caller's standing, read at query time,
becomes the set of tokens they hold; so a change of membership or of a link
changes results at once, with nothing reindexed."""
