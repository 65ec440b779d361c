"""The index's fields, and the analyser that turns query words into the terms
the `en_stem` tokenizer put in the index."""

from __future__ import annotations

import tantivy

# Bump when the fields, their tokenizers or the audience tokens (audience.py) change: an
# index of another version is rebuilt. 2: a draft's creator token no longer names the community;
# a comment thread is indexed with its item's current title.
SCHEMA_VERSION = 2

KEY = "key"  # `resource:<id>`, `thread:<id>`, `reply:<id>`: one document per key
DOC_TYPE = "doc_type"  # resource | thread | reply
THREAD = "thread"  # the thread a thread or reply belongs to (deleting a thread's key removes its replies)
COMMUNITY = "community_id"
KIND = "kind"  # file, link, note, discussion, question, announcement, reply
TAGS = "tags"
STATE = "state"  # published | draft | archived
TITLE = "title"
BODY = "body"
AUDIENCE = "audience"  # tokens, see audience.py; indexed, never stored
DISPLAY = "display"  # stored JSON: what a hit shows (label, preview text, ids)

RAW = "raw"
STEMMED = "en_stem"
TITLE_BOOST = 3.0


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(KEY, stored=True, tokenizer_name=RAW, index_option="basic")
    builder.add_text_field(DOC_TYPE, stored=True, tokenizer_name=RAW, index_option="basic")
    builder.add_text_field(THREAD, stored=False, tokenizer_name=RAW, index_option="basic")
    builder.add_text_field(COMMUNITY, stored=True, tokenizer_name=RAW, index_option="basic")
    builder.add_text_field(KIND, stored=True, tokenizer_name=RAW, index_option="basic")
    builder.add_text_field(TAGS, stored=False, tokenizer_name=RAW, index_option="basic")
    builder.add_text_field(STATE, stored=True, tokenizer_name=RAW, index_option="basic")
    builder.add_text_field(TITLE, stored=False, tokenizer_name=STEMMED)
    builder.add_text_field(BODY, stored=False, tokenizer_name=STEMMED)
    builder.add_text_field(AUDIENCE, stored=False, tokenizer_name=RAW, index_option="basic")
    builder.add_bytes_field(DISPLAY, stored=True, indexed=False)
    return builder.build()


def query_analyzer() -> tantivy.TextAnalyzer:
    """The same chain as tantivy's built-in `en_stem` (simple tokenizer, words over
    40 bytes dropped, lower case, Snowball English stemmer)."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )
