"""Read and write REFI-QDA 1.0 projects, the exchange format of NVivo, ATLAS.ti and MAXQDA.

Import (``importer``) turns a ``.qdpx`` (or a bare ``.qde`` with its ``sources`` folder) into
the data contract's ``codebook.csv``, ``segments.csv`` and ``coders.csv`` plus ``sources.csv``
and ``transcripts/``, so the study's own NVivo coding can replace the synthetic stand-ins.
Export (``exporter``) writes the repository's coding back out, so it can be opened in any QDA
package. The rules (levels, ids, coders, participants, offsets) are documented in
``docs/qda.md``.

One concern a module: ``archive`` reads a project's files and XML within its limits,
``project`` reads the codebook, users, sources and participants from the XML, ``offsets``
finds how a tool counted selection positions, ``importer`` writes the contract's files,
``exporter`` writes a project, ``cli`` is ``python -m psu_study.qda``. This file imports none
of them, so a notebook that exports depends on the exporter alone. A name with a leading
underscore is internal to the package, shared among its modules.
"""
