"""dendc_search.py: the Optuna half of `dendc search` (compiler/search.c).

dendc parses and checks the command line, compiles the model once into
DIR/MODEL.bin and asks it for its params and metrics (--list-params,
--list-metrics); then it runs this script with the checked, normalised
arguments.  Here each trial asks Optuna's TPE sampler for the params, runs
the compiled model with `--set NAME=VALUE --out DIR/trials/N --quiet` (one
run per seed, at once, into DIR/trials/N/seedS with --seeds), follows the
metrics.csv each run rewrites after every evaluated epoch, reports the mean
over the seeds to the trial and kills the runs when the median pruner says
so.  The study lives in a database (SQLite by default), so that a search
can stop and go on, and several processes can work on it at once (--jobs).

    python3 dendc_search.py --probe         exit 0 when Optuna imports
    python3 dendc_search.py --exe BIN --out DIR --storage URL --study NAME
        --trials N --direction maximize|minimize --metric M
        --param NAME:float|log|int:LO:HI... [--default NAME=VALUE]...
        [--seeds A..B] [--epochs E] [--variant V] [--jobs N] [--quiet]
        [-- MODEL-ARGS]

Counting trials.  --trials N is the size of the study, not of this
invocation: complete, pruned and running trials count (not one queued,
the model's values, until it runs), and so do those that
failed with an error of the run; a trial that failed because the search was
interrupted (Ctrl-C) or its process died (the heartbeat finds it) does not,
and is run again.  Rerunning the command therefore goes on to N trials.

Exit status: 0, 1 when the search could not run (a storage that cannot be
opened, a study made by another search, every trial failed), 130 after
Ctrl-C (the study keeps every finished trial, trials.csv is written).
"""
import argparse
import math
import os
import signal
import subprocess
import sys
import time

PROG = "dendc search"

# Intermediate values reach the pruner only from epoch 1 on: epoch 0 is the
# untrained model, which the searched params do not change.
WARMUP_EPOCHS = 1
# Trials the median pruner waits for before it prunes anything.
PRUNER_STARTUP = 5
# How often a trial looks at its runs' metrics.csv (seconds).
POLL_S = 0.1
# A worker that stops sending heartbeats for this long has its running trial
# failed (and so run again) by the next trial any worker starts.
HEARTBEAT_S = 10
GRACE_S = 60


def error(msg):
    print(f"dendc: error: {msg}", file=sys.stderr)


def import_optuna():
    try:
        import optuna
    except ImportError as e:
        error(f"'dendc search' needs Optuna, which {sys.executable} cannot import ({e}); "
              "install the Debian package 'python3-optuna', or set DENDC_PYTHON to a "
              "python3 that has it")
        sys.exit(1)
    import warnings
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    # Each trial's outcome is said here, in one line (Search.progress).
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna


class Param:
    def __init__(self, spec):
        name, kind, lo, hi = spec.rsplit(":", 3)
        self.name, self.kind = name, kind
        self.lo, self.hi = (int(lo), int(hi)) if kind == "int" else (float(lo), float(hi))

    def suggest(self, trial):
        if self.kind == "int":
            return trial.suggest_int(self.name, self.lo, self.hi)
        return trial.suggest_float(self.name, self.lo, self.hi, log=self.kind == "log")

    def contains(self, v):
        if self.kind == "int" and v != int(v):
            return False
        return self.lo <= v <= self.hi


class RunFailed(Exception):
    """A run of the model failed (not diverged): the trial fails, counted."""


def parse_args(argv):
    model_args = []
    if "--" in argv:
        k = argv.index("--")
        argv, model_args = argv[:k], argv[k + 1:]
    ap = argparse.ArgumentParser(prog=PROG)
    ap.add_argument("--probe", action="store_true")
    ap.add_argument("--worker", type=int, default=0)
    ap.add_argument("--exe")
    ap.add_argument("--out")
    ap.add_argument("--storage")
    ap.add_argument("--study")
    ap.add_argument("--trials", type=int)
    ap.add_argument("--direction", choices=("maximize", "minimize"))
    ap.add_argument("--metric")
    ap.add_argument("--param", action="append", default=[])
    ap.add_argument("--default", action="append", default=[])
    ap.add_argument("--seeds")
    ap.add_argument("--epochs")
    ap.add_argument("--variant")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    a.model_args = model_args
    a.raw = argv
    return a


class Search:
    def __init__(self, a, optuna):
        self.a, self.optuna = a, optuna
        self.params = [Param(p) for p in a.param]
        self.defaults = {}
        for d in a.default:
            name, value = d.split("=", 1)
            self.defaults[name] = float(value)
        if a.seeds:
            lo, _, hi = a.seeds.partition("..")
            self.seeds = list(range(int(lo), int(hi or lo) + 1))
        else:
            self.seeds = [None]         # the model's default seed, DIR/trials/N
        self.sign = 1.0 if a.direction == "maximize" else -1.0
        self.procs = []

    # ---- the study

    def spec(self):
        """What makes a search this search: a study made with another spec is
        refused instead of mixed with this one."""
        return {
            "model": os.path.basename(self.a.exe),
            "metric": self.a.metric,
            "direction": self.a.direction,
            "params": " ".join(self.a.param),
            "variant": self.a.variant or "",
            "seeds": self.a.seeds or "",
            "epochs": self.a.epochs or "",
            "model_args": " ".join(self.a.model_args),
        }

    def storage(self):
        kwargs = {}
        if self.a.storage.startswith("sqlite:"):
            # Several processes share the file: wait for the lock rather than fail.
            kwargs = {"connect_args": {"timeout": 60}}
        return self.optuna.storages.RDBStorage(self.a.storage, engine_kwargs=kwargs,
                                               heartbeat_interval=HEARTBEAT_S,
                                               grace_period=GRACE_S)

    def open_study(self, create):
        optuna = self.optuna
        storage = self.storage()
        spec = self.spec()
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        new = self.a.study not in names
        if new and not create:
            raise RuntimeError(f"study '{self.a.study}' vanished from {self.a.storage}")
        n_before = 0
        if not new:
            study = optuna.load_study(study_name=self.a.study, storage=storage)
            n_before = len(study.trials)
        # Seeded, and reseeded from the study's size on a rerun, so that the
        # continued search does not replay the first one's random start;
        # each worker has a seed of its own.
        seed = 1 + 7919 * self.a.worker + n_before
        sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=self.a.jobs > 1)
        pruner = optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP,
                                             n_warmup_steps=WARMUP_EPOCHS)
        study = optuna.create_study(study_name=self.a.study, storage=storage, sampler=sampler,
                                    pruner=pruner, direction=self.a.direction,
                                    load_if_exists=True)
        if new:
            for k, v in spec.items():
                study.set_user_attr(k, v)
        else:
            old = study.user_attrs
            for k, v in spec.items():
                if old.get(k, v) != v:
                    raise RuntimeError(
                        f"study '{self.a.study}' in {self.a.storage} was made by another "
                        f"search ({k}: '{old.get(k)}', here '{v}'); give --study NAME or "
                        "another --out")
        # The first trial is the model as written (where its values lie in
        # the ranges): the point the search has to beat.  Again on a rerun
        # when it was interrupted.
        point = {p.name: (int(self.defaults[p.name]) if p.kind == "int"
                          else self.defaults[p.name])
                 for p in self.params if p.name in self.defaults
                 and p.contains(self.defaults[p.name])}
        if len(point) == len(self.params) and not any(
                t.user_attrs.get("baseline")
                and (self.counts(t) or t.state == self.optuna.trial.TrialState.WAITING)
                for t in study.get_trials(deepcopy=False)):
            study.enqueue_trial(point, user_attrs={"baseline": True})
        return study

    def counts(self, t):
        """Whether trial t counts towards --trials (see the top of the file)."""
        S = self.optuna.trial.TrialState
        return (t.state in (S.COMPLETE, S.PRUNED, S.RUNNING)
                or (t.state == S.FAIL and "error" in t.user_attrs))

    def counted(self, study):
        return sum(self.counts(t) for t in study.get_trials(deepcopy=False))

    # ---- one trial

    def command(self, values, seed, out):
        cmd = [self.a.exe]
        if self.a.variant:
            cmd += ["--variant", self.a.variant]
        for p in self.params:
            cmd += ["--set", f"{p.name}={values[p.name]!r}"]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        if self.a.epochs:
            cmd += ["--epochs", self.a.epochs]
        return cmd + ["--out", out, "--quiet"] + self.a.model_args

    def kill(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            p.wait()
        self.procs = []

    @staticmethod
    def read_metric(path, metric):
        """{epoch: value} from a metrics.csv (written atomically, so whole)."""
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return {}
        if not lines:
            return {}
        head = lines[0].split(",")
        if metric not in head:
            return {}
        col = head.index(metric)
        rows = {}
        for line in lines[1:]:
            f = line.split(",")
            if len(f) > col and f[col] not in ("",):
                rows[int(f[0])] = float(f[col])
        return rows

    def objective(self, trial):
        values = {p.name: p.suggest(trial) for p in self.params}
        tdir = os.path.join(self.a.out, "trials", str(trial.number))
        runs = []
        for s in self.seeds:
            rdir = tdir if s is None else os.path.join(tdir, f"seed{s}")
            os.makedirs(rdir, exist_ok=True)
            runs.append(rdir)
        trial.set_user_attr("dir", tdir)
        try:
            for s, rdir in zip(self.seeds, runs):
                with open(os.path.join(rdir, "run.log"), "wb") as log:
                    # A session of their own: the terminal's Ctrl-C reaches
                    # this process, which ends the runs itself.
                    self.procs.append(subprocess.Popen(
                        self.command(values, s, rdir), stdin=subprocess.DEVNULL, stdout=log,
                        stderr=subprocess.STDOUT, start_new_session=True))
            return self.follow(trial, runs)
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                trial.set_user_attr("note", "interrupted")
            raise
        finally:
            self.kill()

    def follow(self, trial, runs):
        reported = -1
        last = None
        while True:
            if STOPPED_BY:
                raise KeyboardInterrupt
            done = all(p.poll() is not None for p in self.procs)
            tables = [self.read_metric(os.path.join(r, "metrics.csv"), self.a.metric)
                      for r in runs]
            common = sorted(set.intersection(*(set(t) for t in tables)))
            for e in common:
                if e <= reported:
                    continue
                v = sum(t[e] for t in tables) / len(tables)
                reported, last = e, v
                if not math.isfinite(v):
                    break
                trial.report(v, e)
                # A run that has ended is not pruned at its last value: that
                # is its result, which the sampler learns more from.
                if not (done and e == common[-1]) and trial.should_prune():
                    trial.set_user_attr("note", f"pruned at epoch {e}")
                    raise self.optuna.TrialPruned()
            if done or (last is not None and not math.isfinite(last)):
                break
            time.sleep(POLL_S)
        failed = [(r, p.returncode) for r, p in zip(runs, self.procs) if p.returncode]
        for r, rc in failed:
            with open(os.path.join(r, "run.log"), encoding="utf-8", errors="replace") as f:
                log = f.read()
            if rc == 1 and "diverged" in log:
                # Pruned, not failed: the sampler learns from pruned trials
                # (ranked by how far they got) and ignores failed ones, so a
                # region that diverges is left instead of tried again.
                trial.set_user_attr("note", f"diverged ({r})")
                raise self.optuna.TrialPruned()
            msg = f"run in {r} failed (exit status {rc}): {log.strip()[-300:]}"
            trial.set_user_attr("error", msg)
            raise RunFailed(msg)
        if last is None:
            msg = f"the runs in {os.path.dirname(runs[0])} wrote no value of '{self.a.metric}'"
            trial.set_user_attr("error", msg)
            raise RunFailed(msg)
        if not math.isfinite(last):
            trial.set_user_attr("note", f"{self.a.metric} is {last} at epoch {reported}")
            raise self.optuna.TrialPruned()
        return last

    # ---- the loop

    def progress(self, study, t):
        if self.a.quiet:
            return
        S = self.optuna.trial.TrialState
        params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in t.params.items())
        if t.state == S.COMPLETE:
            what = f"{self.a.metric} {t.value:.6g}"
        elif t.state == S.PRUNED:
            what = t.user_attrs.get("note", "pruned")
        else:
            what = "failed: " + t.user_attrs.get("error", t.user_attrs.get("note", "error"))
        dur = t.duration.total_seconds() if t.duration else 0.0
        try:
            best = f"; best {study.best_value:.6g} (trial {study.best_trial.number})"
        except ValueError:
            best = ""
        print(f"{PROG}: trial {t.number}: {what} ({params}) in {dur:.1f} s{best}",
              file=sys.stderr, flush=True)

    def work(self, study):
        # One trial per optimize call: the count is the study's, which the
        # other workers add to as well.
        while not STOPPED_BY and self.counted(study) < self.a.trials:
            study.optimize(self.objective, n_trials=1, catch=(RunFailed,),
                           callbacks=[self.progress])

    # ---- the results

    def write_csv(self, study):
        S = self.optuna.trial.TrialState
        path = os.path.join(self.a.out, "trials.csv")
        tmp = f"{path}.tmp.{os.getpid()}"
        names = [p.name for p in self.params]
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("number,state,value," + ",".join(names) + ",duration_s,note\n")
            for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
                if t.state == S.COMPLETE:
                    value = repr(t.value)
                elif t.state == S.PRUNED and t.intermediate_values:
                    value = repr(t.intermediate_values[max(t.intermediate_values)])
                else:
                    value = ""
                ps = [repr(t.params[n]) if n in t.params else "" for n in names]
                dur = f"{t.duration.total_seconds():.3f}" if t.duration else ""
                note = t.user_attrs.get("error", t.user_attrs.get("note", ""))
                if t.user_attrs.get("baseline"):
                    note = ("baseline (the model's values)" + ("; " + note if note else ""))
                note = '"' + note.replace('"', '""') + '"' if any(c in note for c in ',"\n') else note
                f.write(f"{t.number},{t.state.name},{value}," + ",".join(ps) + f",{dur},{note}\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return path

    def summary(self, study, path):
        S = self.optuna.trial.TrialState
        trials = study.get_trials(deepcopy=False)
        count = {s: sum(t.state == s for t in trials) for s in (S.COMPLETE, S.PRUNED, S.FAIL)}
        over = f", mean over seeds {self.a.seeds}" if self.a.seeds else ""
        try:
            best = study.best_trial
        except ValueError:
            best = None
        if best is None:
            print(f"no trial completed ({self.a.direction} {self.a.metric})")
        else:
            print(f"best: trial {best.number}, {self.a.metric} = {best.value:.6g} "
                  f"({self.a.direction}d{over})")
            for n, v in best.params.items():
                print(f"  {n} = {v!r}")
            base = [t for t in trials if t.user_attrs.get("baseline")]
            if base and base[0].state == S.COMPLETE:
                print(f"baseline: trial {base[0].number} (the model's values), "
                      f"{self.a.metric} = {base[0].value:.6g}")
            sets = " ".join(f"--set {n}={v!r}" for n, v in best.params.items())
            var = f" --variant {self.a.variant}" if self.a.variant else ""
            print(f"run it: {self.a.exe}{var} {sets}")
        print(f"{len(trials)} trials ({count[S.COMPLETE]} complete, {count[S.PRUNED]} pruned, "
              f"{count[S.FAIL]} failed) in {self.a.storage}, study '{self.a.study}'; "
              f"table: {path}", flush=True)
        return best


# The signal that stopped the search (SIGINT, SIGTERM), or 0.  The handler
# only notes it: the trial loop stops at its next look (POLL_S), never in the
# middle of a write to the storage.
STOPPED_BY = 0


def interrupted(signum, frame):
    global STOPPED_BY
    STOPPED_BY = signum


def main(argv):
    # Ctrl-C and SIGTERM stop the search alike, even where a shell started
    # this in the background with SIGINT ignored.
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    a = parse_args(argv)
    optuna = import_optuna()
    if a.probe:
        return 0
    search = Search(a, optuna)
    workers = []
    try:
        study = search.open_study(create=a.worker == 0)
    except Exception as e:
        error(str(e))
        return 1
    status = 0
    try:
        if a.worker == 0:
            for k in range(1, a.jobs):
                workers.append(subprocess.Popen([sys.executable, __file__, "--worker", str(k)]
                                                + a.raw + ["--"] + a.model_args))
        search.work(study)
        for w in workers:
            w.wait()
        if STOPPED_BY:
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        status = 128 + (STOPPED_BY or signal.SIGINT)
        for w in workers:
            if w.poll() is None:
                w.send_signal(STOPPED_BY or signal.SIGINT)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
        if a.worker:
            return status
        print(f"{PROG}: interrupted: the finished trials are kept; run the same command "
              "again to go on", file=sys.stderr)
    except Exception as e:
        error(f"{type(e).__name__}: {e}")
        status = 1
    if a.worker:
        return status
    best = search.summary(study, search.write_csv(study))
    if best is None and status == 0:
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
