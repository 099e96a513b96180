"""A git repository driven through its plumbing, for ``publish`` and ``import-git`` alike.

Every call runs ``git --git-dir=...`` with the environment cleaned of what
would point git elsewhere (``GIT_DIR``, ``GIT_INDEX_FILE``...) and of prompts
nobody could answer, a timeout, and its own process group; a failure becomes
one line of the caller's error class, naming git's last line of stderr.
Branch and remote names given by a user are checked here, and every command
puts ``--`` before them, so no name can act as an option.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from crawler.errors import PublishError, ScholarStatsError
from crawler.net.redact import mask_url, remember_url

ZERO_SHA = "0" * 40
LOCAL_TIMEOUT = 120.0
NETWORK_TIMEOUT = 300.0
# Environment that would point git somewhere else than the repository we chose.
_GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR")
# Transports git runs as commands (ext::, fd::) or that need a helper: never for a remote given as text.
_REMOTE_URL_RE = re.compile(r"^(?:(?:https?|ssh|git|file)://|[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:(?!:))")


class Git:
    """A git repository, driven through its plumbing; every failure is one ``error`` line.

    ``error`` is the exception its failures raise: ``PublishError`` (exit 9)
    for publishing, ``UsageError`` for a repository the user named to read from.
    """

    def __init__(self, git_dir: Path, *, error: type[ScholarStatsError] = PublishError) -> None:
        self.git_dir = git_dir
        self.error = error

    @classmethod
    def open(
        cls,
        path: Path | None = None,
        *,
        error: type[ScholarStatsError] = PublishError,
        purpose: str = "to publish",
        hint: str = " (run inside your repository or pass --repo)",
    ) -> Git:
        """The repository containing ``path`` (default: the current directory)."""
        where = Path(path) if path is not None else Path.cwd()
        if not where.exists():
            raise error(f"not a git repository: {where} does not exist")
        try:
            proc = subprocess.run(
                ["git", "-C", str(where), "rev-parse", "--absolute-git-dir"],
                capture_output=True,
                env=git_env(),
                timeout=LOCAL_TIMEOUT,
                check=False,
            )
        except FileNotFoundError as exc:
            raise error(f"git is not installed (needed {purpose})") from exc
        if proc.returncode != 0:
            raise error(f"not a git repository: {where.resolve()}{hint}")
        return cls(Path(os.fsdecode(proc.stdout.strip())), error=error)

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        check: bool = True,
        timeout: float = LOCAL_TIMEOUT,
    ) -> subprocess.CompletedProcess[bytes]:
        command = ["git", f"--git-dir={self.git_dir}", *args]
        try:
            proc = subprocess.run(
                command,
                input=input,
                capture_output=True,
                env=git_env(env),
                cwd=cwd,
                timeout=timeout,
                check=False,
                # Ctrl-C in a terminal signals the whole process group; a running
                # publish is finished by the scheduler, not cut by git dying under it.
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as exc:
            raise self.error(f"git {args[0]} took more than {timeout:.0f} s") from exc
        except OSError as exc:
            raise self.error(f"cannot run git: {exc.strerror or exc}") from exc
        if check and proc.returncode != 0:
            raise self.error(f"git {args[0]} failed: {git_reason(proc.stderr)}")
        return proc

    def out(self, *args: str, **kwargs: object) -> str:
        return os.fsdecode(self.run(*args, **kwargs).stdout).strip()  # type: ignore[arg-type]

    def rev_parse(self, name: str) -> str | None:
        proc = self.run("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", check=False)
        if proc.returncode != 0:
            return None
        return proc.stdout.decode().strip() or None

    def tree_of(self, commit: str) -> str:
        return self.out("rev-parse", f"{commit}^{{tree}}")

    def config(self, key: str) -> str | None:
        proc = self.run("config", "--get", key, check=False)
        if proc.returncode != 0:
            return None
        return os.fsdecode(proc.stdout).strip() or None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self.run("merge-base", "--is-ancestor", ancestor, descendant, check=False).returncode == 0

    def update_ref(self, ref: str, new: str, old: str | None) -> None:
        proc = self.run("update-ref", "-m", "scholar-stats publish", ref, new, old or ZERO_SHA, check=False)
        if proc.returncode != 0:
            raise self.error(f"{ref} moved while publishing ({git_reason(proc.stderr)}); try again")

    def remotes(self) -> list[str]:
        return self.out("remote").split()

    def remote_url(self, remote: str) -> str:
        if remote in self.remotes():
            return self.out("remote", "get-url", "--", remote)
        return remote

    def tracking_ref(self, remote: str, branch: str) -> str:
        """Where the remote branch's tip is remembered locally."""
        if remote in self.remotes():
            return f"refs/remotes/{remote}/{branch}"
        # A URL given as the remote: keep its tip out of the user's namespaces.
        # Named after the URL with its credentials masked: a token never lands in a ref name.
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", mask_url(remote)).strip("-.") or "remote"
        return f"refs/scholar-stats/{slug}/{branch}"

    def remote_tip(self, remote: str, branch: str) -> str | None:
        """The remote branch's tip, fetched into the tracking ref; None if the branch is not there."""
        proc = self.run(
            "ls-remote",
            "--exit-code",
            "--",
            remote,
            f"refs/heads/{branch}",
            check=False,
            timeout=NETWORK_TIMEOUT,
        )
        if proc.returncode == 2:
            return None
        if proc.returncode != 0:
            raise self.error(f"cannot reach remote {remote}: {git_reason(proc.stderr)}")
        sha = proc.stdout.decode().split()[0]
        tracking = self.tracking_ref(remote, branch)
        self.run(
            "fetch",
            "--no-tags",
            "--no-write-fetch-head",
            "--quiet",
            "--",
            remote,
            f"+refs/heads/{branch}:{tracking}",
            timeout=NETWORK_TIMEOUT,
        )
        fetched = self.rev_parse(tracking)
        # The branch may have moved between ls-remote and fetch; the fetched tip is the newer one.
        return fetched or sha

    def checked_out_here(self, branch: str) -> bool:
        ref = f"refs/heads/{branch}"
        proc = self.run("worktree", "list", "--porcelain", check=False)
        if proc.returncode == 0:
            for line in proc.stdout.decode(errors="replace").splitlines():
                if line == f"branch {ref}":
                    return True
        head = self.run("symbolic-ref", "--quiet", "HEAD", check=False)
        return head.returncode == 0 and head.stdout.decode().strip() == ref

    def hash_files(self, paths: list[Path]) -> list[str]:
        """Store the files as blobs, byte for byte (no end-of-line or filter conversion)."""
        if not paths:
            return []
        plain = [p for p in paths if "\n" not in str(p)]
        shas: dict[Path, str] = {}
        if plain:
            listing = "".join(f"{os.fspath(p.resolve())}\n" for p in plain).encode("utf-8", "surrogateescape")
            out = (
                self.run("hash-object", "-w", "--no-filters", "--stdin-paths", input=listing)
                .stdout.decode()
                .split()
            )
            if len(out) != len(plain):
                raise self.error("git hash-object did not hash every file")
            shas.update(zip(plain, out, strict=True))
        for path in paths:
            if path not in shas:
                shas[path] = self.out("hash-object", "-w", "--no-filters", "--stdin", input=path.read_bytes())
        return [shas[p] for p in paths]

    def blob_sizes(self, shas: list[str]) -> list[int]:
        """The sizes of the blobs ``shas``, in order, without reading them (``cat-file --batch-check``)."""
        if not shas:
            return []
        out = self.run("cat-file", "--batch-check", input="".join(f"{s}\n" for s in shas).encode()).stdout
        sizes = []
        for line in out.splitlines():
            fields = line.split()
            if len(fields) != 3 or fields[1] != b"blob":
                raise self.error(f"git cat-file: unexpected answer {line!r}")
            sizes.append(int(fields[2]))
        if len(sizes) != len(shas):
            raise self.error(f"git cat-file: {len(sizes)} answers for {len(shas)} blobs")
        return sizes

    def read_blobs(self, shas: list[str]) -> list[bytes]:
        """The bodies of the blobs ``shas``, in order, read in one ``cat-file --batch``."""
        out = self.run("cat-file", "--batch", input="".join(f"{s}\n" for s in shas).encode()).stdout
        bodies: list[bytes] = []
        pos = 0
        for _ in shas:
            header_end = out.index(b"\n", pos)
            header = out[pos:header_end].split()
            if len(header) != 3:
                raise self.error(f"git cat-file: unexpected answer {out[pos:header_end]!r}")
            size = int(header[2])
            start = header_end + 1
            bodies.append(out[start : start + size])
            pos = start + size + 1
        return bodies

    def empty_tree(self) -> str:
        return self.out("hash-object", "-t", "tree", "-w", "--stdin", input=b"")

    def listing(self, treeish: str) -> dict[bytes, tuple[bytes, bytes]]:
        """Every file of ``treeish``: path -> (mode, blob)."""
        out = self.run("ls-tree", "-r", "-z", "--full-tree", treeish).stdout
        files: dict[bytes, tuple[bytes, bytes]] = {}
        for record in out.split(b"\0"):
            if record:
                info, _, path = record.partition(b"\t")
                mode, _kind, sha = info.split()
                files[path] = (mode, sha)
        return files

    def replay_tree(self, base: str | None, ours: str, onto: str) -> str:
        """The tree of ``onto`` with the change from ``base`` to ``ours`` applied; return its id.

        ``base`` (a commit, or None for "no branch yet") is where ``ours`` (a tree)
        started.  What ``ours`` added or changed wins; what it removed goes only
        where ``onto`` still has ``base``'s version, so everything ``onto`` added
        meanwhile (another machine's snapshots) is kept.
        """
        base_tree = self.tree_of(base) if base is not None else self.empty_tree()
        out = self.run("diff-tree", "-r", "-z", "--no-renames", base_tree, ours).stdout.split(b"\0")
        theirs = self.listing(onto)
        lines: list[bytes] = []
        for meta, path in zip(out[0::2], out[1::2], strict=False):
            if not meta.startswith(b":"):
                continue
            _old_mode, new_mode, old_sha, new_sha, status = meta[1:].split()
            if status == b"D":
                if theirs.get(path, (b"", old_sha))[1] == old_sha:
                    lines.append(b"0 " + ZERO_SHA.encode() + b"\t" + path + b"\0")
            else:
                lines.append(new_mode + b" " + new_sha + b"\t" + path + b"\0")
        with tempfile.TemporaryDirectory(prefix="scholar-stats-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self.run("read-tree", onto, env=env)
            if lines:
                self.run("update-index", "-z", "--index-info", input=b"".join(lines), env=env)
            return self.out("write-tree", env=env)


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
    # Never wait for a password nobody is there to type (cron, CI).
    env["GIT_TERMINAL_PROMPT"] = "0"
    if extra:
        env.update(extra)
    return env


# What git adds after the reason of a failed fetch or push: advice, not the reason.
_GIT_BOILERPLATE = (
    "fatal: could not read from remote repository.",
    "please make sure you have the correct access rights",
    "and the repository exists.",
    "hint:",
)
_REASON_LIMIT = 500


def git_reason(stderr: bytes) -> str:
    """What git said went wrong, in one line: every line of its stderr but the advice it
    appends (``Please make sure you have the correct access rights…``), joined with ``; ``."""
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    reasons = [line for line in lines if not line.lower().startswith(_GIT_BOILERPLATE)] or lines[-1:]
    text = "; ".join(reasons) or "no message"
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 1] + "…"


# Remote names so common that "origin/main" means the remote's branch even where no
# remote of that name is configured (a scratch repository, a fresh CI checkout).
_USUAL_REMOTES = ("origin", "upstream")


def check_branch_name(git: Git, branch: str) -> None:
    """Refuse a branch name git rejects, or one that names something else than a branch.

    ``refs/heads/main`` would make a branch called ``refs/heads/main`` and
    ``origin/main`` one that shadows the remote's; ``HEAD`` and ``@{-1}``
    mean other commits to git.  All of them are refused, as is an option.
    """
    first = branch.split("/", 1)[0]
    why = None
    if not branch or branch.startswith("-"):
        why = "it must not be empty or start with '-'"
    elif branch in ("HEAD", "@") or "@{" in branch:
        why = "it names a commit, not a branch"
    elif first in ("refs", "heads", "remotes", "tags"):
        why = f"give the plain branch name, without {first}/"
    elif "/" in branch and (first in git.remotes() or first in _USUAL_REMOTES):
        why = f"{first}/ names a remote; give the plain branch name and --remote {first}"
    elif git.run("check-ref-format", f"refs/heads/{branch}", check=False).returncode != 0:
        why = "git does not accept it as a branch name"
    if why is not None:
        raise PublishError(f"not a valid branch name: {branch!r} ({why})")


def check_remote(git: Git, remote: str) -> None:
    """A remote is the name of one of the repository's remotes, a URL, or a local path."""
    remember_url(remote)
    if remote in git.remotes():
        return
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in remote) or remote.startswith("-") or not remote:
        raise PublishError(f"not a valid remote: {remote!r}")
    if _REMOTE_URL_RE.match(remote) or remote.startswith(("/", "./", "../")) or os.path.isdir(remote):
        return
    if "::" in remote:
        raise PublishError(f"not a valid remote: {remote!r} (only https, ssh, git and file URLs or a path)")
    raise PublishError(f"no remote named {remote!r} (add one, pass --remote, or --no-push)")
