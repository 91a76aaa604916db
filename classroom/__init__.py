"""The course in a classroom: nbgrader assignments, the student edition, sandboxed grading, the leak search.

A package of its own beside ``ldc``, and not in ldc's wheel (what Colab
installs): a teacher's machine needs it, a reader's does not. Its command line
is ``python -m classroom`` (the Makefile's ``assignments``, ``student-book``,
``grade`` and ``leak-check`` call it):

- :mod:`classroom.course`: the exercises read from the chapters, the
  assignments, the student edition's sources, grading a folder of
  submissions, and the leak search;
- :mod:`classroom.grading`: one submission, run shut off from the course, and
  the comparison of its answers with the model answer's;
- :mod:`classroom.handout`: the file copied beside each graded notebook that
  hands its answers out as plain data.
"""
