"""nbgrader configuration for the course (instructor side).

The course root is this file's folder. Sources live in solutions/<id>/, releases in
assignments/<id>/. Runtime folders (submitted/, autograded/, feedback/, gradebook.db, exports/,
reports/) are instructor-private and git-ignored.
"""

import os

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "pytorch-from-scratch"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
