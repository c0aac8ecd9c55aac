"""`report`: a static site of the history — index, one page per document with word-level diffs, Atom feeds.

It opens from ``file://`` with no server, no script and no network: every page is plain HTML and one style
sheet, every link relative (snapshot links go to the archive, on purpose). ``build.py`` decides what to rewrite,
``document_files.py`` writes a document's pages (each version on its numbered page for good) and its feed,
``diffs.py`` computes the word-level changes, ``pages.py`` and ``feeds.py`` write HTML and Atom, ``style.py``
holds the style sheet (screen and print).
"""
