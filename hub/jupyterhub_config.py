"""JupyterHub for the course, with nbgrader's exchange: the example configuration.

The course's own test of the exchange (tests/hub/) runs a hub with this very file on 127.0.0.1,
and `course publish` copies it into the student edition (hub/). It holds no secrets: JupyterHub
makes its cookie secret (a file in the state folder, mode 600) and the proxy's token (in
memory) itself, and people log in with the passwords of their accounts on the machine.

In the student edition's folder, as root:

    python3 -m venv /opt/course                  # an environment everyone can read
    /opt/course/bin/pip install -r requirements.txt jupyterhub==6.1.1
    npm ci --prefix hub                          # the proxy, configurable-http-proxy
    mkdir -p -m 700 /srv/jupyterhub              # the hub's state
    mkdir -p -m 1777 /srv/nbgrader/exchange      # everyone writes; only owners delete
    /opt/course/bin/jupyterhub -f hub/jupyterhub_config.py

(6.1.1 is the JupyterHub this file is tested with.)

What it sets up:

* Log in: JupyterHub's PAM authenticator, i.e. the accounts of this machine (useradd, passwd).
  Only members of two system groups may log in: the students (COURSE_STUDENTS_GROUP, default
  ``course-students``) and the instructors (COURSE_INSTRUCTORS_GROUP, default
  ``course-instructors``), who are the hub's admins.
* Servers: each person's JupyterLab runs as their own user, in their home folder
  (LocalProcessSpawner; so the hub runs as root), from the environment the hub runs in
  (``jupyterhub-singleuser`` next to the hub's Python). That environment must be readable by
  everyone and hold the course's requirements.txt (torch, nbgrader, the library ``fromscratch``)
  and JupyterHub, and nothing private: not the instructors' course repository.
* nbgrader's exchange, a folder every user writes to (normally /srv/nbgrader/exchange,
  ``chmod 1777``): students fetch and submit with the Assignment List, instructors release and
  collect, and release feedback. Everyone's server reads the exchange's settings from
  ``nbgrader_config.py`` in COURSE_JUPYTER_CONFIG (default /etc/jupyter/course)::

      c = get_config()
      c.CourseDirectory.course_id = "pytorch-from-scratch"
      c.Exchange.root = "/srv/nbgrader/exchange"

  Students' servers also read COURSE_JUPYTER_CONFIG/students/, which turns off what only
  instructors use (the Formgrader, Course List and Create Assignment) and JupyterLab's news
  prompt, by a ``jupyter_server_config.json`` ({"ServerApp": {"jpserver_extensions":
  {"nbgrader.server_extensions.formgrader": false, "nbgrader.server_extensions.course_list":
  false}}}) and a ``labconfig/page_config.json`` ({"disabledExtensions":
  {"@jupyter/nbgrader:formgrader": true, "@jupyter/nbgrader:course-list": true,
  "@jupyter/nbgrader:create-assignment": true,
  "@jupyterlab/apputils-extension:announcements": true}}). Students keep the Assignment List
  and Validate.
* Instructors: their Formgrader finds the course through ``~/.jupyter/nbgrader_config.py``
  (``c.CourseDirectory.root = "/home/NAME/course"``). JupyterHub forbids framing the users'
  servers (``frame-ancestors 'none'``, since JupyterHub 4.1), so the Formgrader's JupyterLab tab
  stays blank: open https://HUB/user/NAME/formgrader in a browser tab of its own (nbgrader's
  documented way). They release with ``nbgrader release_assignment ID`` (or the Formgrader),
  then ``course collect ID --exchange``, ``course grade ID`` and ``course release-feedback ID``
  in the course folder.

The other settings, all from environment variables with a default for a real hub:

* COURSE_HUB_BIND_URL: where people reach the hub (default http://127.0.0.1:8000/, behind a
  reverse proxy that adds TLS; give ``JupyterHub.ssl_cert`` and ``ssl_key`` to serve it directly);
* COURSE_HUB_API_PORT, COURSE_HUB_PROXY_API_PORT: the hub's and the proxy's own ports on
  127.0.0.1 (default 8081 and 8001);
* COURSE_HUB_STATE: the hub's database, cookie secret and proxy pid file (default
  /srv/jupyterhub; keep it private to root);
* COURSE_HUB_PROXY: the configurable-http-proxy program (default: the one ``npm ci --prefix hub``
  installs next to this file, hub/package-lock.json pins it; else the one on PATH).
"""

import os
import sys

c = get_config()  # noqa: F821  (provided by traitlets when JupyterHub loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))
STUDENTS = os.environ.get("COURSE_STUDENTS_GROUP", "course-students")
INSTRUCTORS = os.environ.get("COURSE_INSTRUCTORS_GROUP", "course-instructors")
JUPYTER_CONFIG = os.environ.get("COURSE_JUPYTER_CONFIG", "/etc/jupyter/course")
STATE = os.environ.get("COURSE_HUB_STATE", "/srv/jupyterhub")
LOCAL_PROXY = os.path.join(HERE, "node_modules", ".bin", "configurable-http-proxy")
PROXY = os.environ.get("COURSE_HUB_PROXY") or (
    LOCAL_PROXY if os.path.exists(LOCAL_PROXY) else "configurable-http-proxy"
)

# --- Where the hub listens -------------------------------------------------------------------
c.JupyterHub.bind_url = os.environ.get("COURSE_HUB_BIND_URL", "http://127.0.0.1:8000/")
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("COURSE_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.command = [PROXY]
c.ConfigurableHTTPProxy.api_url = (
    f"http://127.0.0.1:{int(os.environ.get('COURSE_HUB_PROXY_API_PORT', '8001'))}"
)
c.ConfigurableHTTPProxy.pid_file = os.path.join(STATE, "jupyterhub-proxy.pid")
c.JupyterHub.db_url = "sqlite:///" + os.path.join(STATE, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(STATE, "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops everyone's server

# --- Who may log in: the machine's accounts, in the course's two groups ----------------------
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {STUDENTS, INSTRUCTORS}
c.PAMAuthenticator.admin_groups = {INSTRUCTORS}
c.PAMAuthenticator.open_sessions = False  # PAM sessions often fail in containers; not needed

# --- Each person's JupyterLab, as their own user ---------------------------------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [os.path.join(sys.prefix, "bin", "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# No news feed and no update checks: the servers never reach out to the internet on their own.
c.Spawner.args = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
]


def course_environment(spawner):
    """nbgrader's settings for this person's server: the exchange for everyone, and for a
    student (not a hub admin) the folder that turns off the instructors' extensions."""
    folders = [JUPYTER_CONFIG]
    if not spawner.user.admin:
        folders.insert(0, os.path.join(JUPYTER_CONFIG, "students"))
    spawner.environment["JUPYTER_CONFIG_PATH"] = os.pathsep.join(folders)


c.Spawner.pre_spawn_hook = course_environment
