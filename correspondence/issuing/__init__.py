"""Issuing documents: accepting requests (:mod:`.accept`), numbering, rendering,
archiving and recording them now or on a later attempt (:mod:`.complete`,
:mod:`.artefacts`)."""
