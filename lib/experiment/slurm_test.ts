// The README's Slurm recipe, run under a real Slurm: munged, slurmctld and slurmd are started on this machine with a
// minimal slurm.conf written into a temporary folder (their own ports, socket, state and logs: nothing else on the
// machine is touched, and other tests can run beside it), the README's array job (`--array=1-4`,
// `--shard "$SLURM_ARRAY_TASK_ID/4"`) runs a small sweep, one array task is cancelled (`scancel`) once it has finished
// a cell and requeued, and after the merge the tables must equal those of a local unsharded run (wall time and dates
// aside), with no finished cell computed twice. The daemons are stopped at the end.
//
// It needs Linux, root and Debian's slurm-wlm and munge (`.ci/run` installs them). Elsewhere it says why and is
// skipped, except where CI=true or LSTM_LAB_REQUIRE_SLURM=1: there a machine that cannot run it fails the test.
// The array's tasks run the CLI with the runtime running this test (`deno task experiment` or `bun run
// lib/experiment/cli.ts`), so the recipe is checked under both.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { expandSweep, shardOf } from "./sweep.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const IS_DENO = (globalThis as { Deno?: unknown }).Deno !== undefined;
const REQUIRED = process.env.CI === "true" || process.env.LSTM_LAB_REQUIRE_SLURM === "1";
const TOOLS = ["munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "scontrol", "sinfo"];

/** Why Slurm cannot run here, or null. */
function whyNot(): string | null {
  if (process.platform !== "linux") return `needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "needs root (to start munged, slurmctld and slurmd)";
  const missing = TOOLS.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`], { env: pathEnv() }).status !== 0);
  if (missing.length > 0) {
    return `needs Debian's slurm-wlm and munge (missing: ${missing.join(", ")}): apt-get install slurm-wlm munge`;
  }
  return null;
}

function pathEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` };
}

const reason = whyNot();
if (reason !== null) {
  console.log(`slurm_test: ${REQUIRED ? "cannot run, and CI requires it" : "skipped"}: ${reason}`);
}

/** A TCP port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The sweep: 12 cells of about a second or two each, so a task of 3 can be caught between cells. */
const EXPERIMENT = {
  name: "slurm-sweep",
  description: "the README's Slurm recipe, tested",
  task: { name: "latch", params: { T: 40 } },
  model: { cell: "lstm", hiddenSize: 8 },
  training: { optimizer: { name: "adam", lr: 0.01 }, batchSize: 16, maxSequences: 16000, logEvery: 20 },
  measure: { testSequences: 64, gradientFlow: { at: ["init", "end"], batchSize: 8 } },
  sweep: { variants: { lstm: {}, rnn: { model: { cell: "rnn" } } }, axes: { seed: [0, 1, 2, 3, 4, 5] } },
  quick: {},
};

/** The CLI as the README runs it, with this test's runtime. */
function cliCommand(): string {
  return IS_DENO ? `"${process.execPath}" task experiment` : `"${process.execPath}" run lib/experiment/cli.ts`;
}

/** Columns that differ between runs of the same cell by design. */
const VOLATILE = new Set(["wallMs", "date"]);

function tableRows(out: string, file: string): string[] {
  return readFileSync(join(out, file), "utf8").trim().split("\n").filter((l) => l !== "").map((l) => {
    const row = JSON.parse(l);
    for (const k of VOLATILE) delete row[k];
    return JSON.stringify(row);
  }).sort();
}

describe("the README's Slurm recipe under a real Slurm", () => {
  it(
    "an array job over a sweep, one task cancelled and requeued, merges to the tables of a local run",
    { skip: reason !== null && !REQUIRED ? reason : false, timeout: 600_000 },
    async () => {
      if (reason !== null) assert.fail(`Slurm is required here (CI) but cannot run: ${reason}`);
      const t0 = Date.now();
      const times: string[] = [];
      const mark = (what: string) => times.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const dir = mkdtempSync(join(tmpdir(), "lstm-lab-slurm-"));
      const conf = join(dir, "slurm.conf");
      const env = { ...pathEnv(), SLURM_CONF: conf };
      const sh = (cmd: string, args: string[], check = true) => {
        const r = spawnSync(cmd, args, { env, encoding: "utf8", timeout: 60_000 });
        if (check && r.status !== 0) {
          throw new Error(`${cmd} ${args.join(" ")}: exit ${r.status}\n${r.stdout}${r.stderr}\n${logs()}`);
        }
        return r.stdout.trim();
      };
      const logs = () =>
        ["munged.log", "slurmctld.log", "slurmd.log"].filter((f) => existsSync(join(dir, f))).map((f) =>
          `--- ${f} (last lines)\n${readFileSync(join(dir, f), "utf8").split("\n").slice(-15).join("\n")}`
        ).join("\n");
      let started = false;
      try {
        // munge, with a fresh key and its own socket.
        const sock = join(dir, "munge.socket");
        sh("mungekey", ["--create", "--keyfile", join(dir, "munge.key"), "--bits", "1024"]);
        sh("munged", [
          "--force",
          `--key-file=${join(dir, "munge.key")}`,
          `--socket=${sock}`,
          `--pid-file=${join(dir, "munged.pid")}`,
          `--log-file=${join(dir, "munged.log")}`,
          `--seed-file=${join(dir, "munged.seed")}`,
        ]);
        started = true;
        // slurmctld and slurmd on this host, on free ports, with their state and logs here.
        const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
        const node = hostname();
        for (const d of ["state", "spool"]) mkdirSync(join(dir, d));
        writeFileSync(
          conf,
          [
            `ClusterName=lstmlab${process.pid}`,
            `SlurmctldHost=${node}(127.0.0.1)`,
            `SlurmctldPort=${ctldPort}`,
            `SlurmdPort=${slurmdPort}`,
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            `AuthInfo=socket=${sock}`,
            `StateSaveLocation=${join(dir, "state")}`,
            `SlurmdSpoolDir=${join(dir, "spool")}`,
            `SlurmctldPidFile=${join(dir, "slurmctld.pid")}`,
            `SlurmdPidFile=${join(dir, "slurmd.pid")}`,
            `SlurmctldLogFile=${join(dir, "slurmctld.log")}`,
            `SlurmdLogFile=${join(dir, "slurmd.log")}`,
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_CPU",
            "SchedulerType=sched/backfill",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "JobCompType=jobcomp/none",
            "MpiDefault=none",
            "ReturnToService=2",
            "KillWait=2",
            "MailProg=/bin/true",
            `NodeName=${node} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN`,
            `PartitionName=test Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
          ].join("\n") + "\n",
        );
        sh("slurmctld", ["-f", conf]);
        sh("slurmd", ["-f", conf]);
        for (let i = 0; sh("sinfo", ["-h", "-o", "%T"], false) !== "idle"; i++) {
          if (i > 300) throw new Error(`the node did not become idle: ${sh("sinfo", [], false)}\n${logs()}`);
          await sleep(100);
        }
        mark("daemons up");

        // The README's array job, over a sweep of 12 cells: 4 tasks of 3 cells.
        const file = join(dir, "slurm_sweep.json");
        writeFileSync(file, JSON.stringify(EXPERIMENT));
        const out = join(dir, "shared", "results");
        const script = join(dir, "job.sh");
        writeFileSync(
          script,
          `#!/bin/bash
#SBATCH --array=1-4 --cpus-per-task=1
${cliCommand()} ${file} --workers 1 --shard "$SLURM_ARRAY_TASK_ID/4" --out ${out}
`,
        );
        const job = sh("sbatch", [
          "--parsable",
          `--chdir=${REPO}`,
          `--output=${join(dir, "task-%a.log")}`,
          "--open-mode=append",
          script,
        ]).split(";")[0];
        const cells = expandSweep(EXPERIMENT);
        const shard1 = shardOf(cells, 1, 4).map((c) => join(out, "slurm-sweep", "cells", `${c.hash}.json`));
        assert.equal(shard1.length, 3);
        // Cancel task 1 once it has finished a cell (and not all three), as a node failure or a preemption would.
        for (let i = 0;; i++) {
          const n = shard1.filter((f) => existsSync(f)).length;
          if (n >= 1 && n < 3) break;
          if (n === 3) assert.fail("task 1 finished before it could be cancelled: cells too short for this machine");
          if (i > 3000) throw new Error(`no cell of task 1 finished within 5 minutes\n${taskLogs(dir)}\n${logs()}`);
          await sleep(100);
        }
        sh("scancel", [`${job}_1`]);
        for (let i = 0; /RUNNING|COMPLETING/.test(sh("scontrol", ["-o", "show", "job", `${job}_1`], false)); i++) {
          if (i > 600) throw new Error("task 1 did not stop after scancel");
          await sleep(100);
        }
        mark("task 1 cancelled");
        const kept = new Map(shard1.filter((f) => existsSync(f)).map((f) => [f, readFileSync(f, "utf8")]));
        assert.ok(kept.size >= 1 && kept.size < 3, `${kept.size} cells of task 1 finished before the kill`);
        // Requeue it, without Slurm's delay before a requeued job may start again.
        sh("scontrol", ["requeue", `${job}_1`]);
        sh("scontrol", ["update", `jobid=${job}_1`, "StartTime=now"]);
        for (let i = 0; sh("squeue", ["-h", "-j", job, "-o", "%i %T"], false) !== ""; i++) {
          if (i > 3000) throw new Error(`the array did not finish within 5 minutes\n${taskLogs(dir)}\n${logs()}`);
          await sleep(100);
        }
        mark("array done");
        const states = sh("scontrol", ["-o", "show", "job", job]).split("\n").map((l) =>
          `${/ArrayTaskId=(\S+)/.exec(l)?.[1]} ${/JobState=(\S+)/.exec(l)?.[1]} ${/ExitCode=(\S+)/.exec(l)?.[1]}`
        ).sort();
        assert.deepEqual(states, ["1 COMPLETED 0:0", "2 COMPLETED 0:0", "3 COMPLETED 0:0", "4 COMPLETED 0:0"]);

        // No finished cell was computed again: the requeued task found them and left their files as they were.
        for (const [f, text] of kept) assert.equal(readFileSync(f, "utf8"), text, `${f} was rewritten`);
        const log1 = readFileSync(join(dir, "task-1.log"), "utf8");
        const last = [...log1.matchAll(/slurm-sweep: (\d+) cells run, (\d+) already done, (\d+) failed/g)].at(-1);
        assert.ok(last !== undefined, `task 1's log has no summary line:\n${log1}`);
        assert.deepEqual([Number(last[1]), Number(last[2]), Number(last[3])], [3 - kept.size, kept.size, 0], log1);
        const cellFiles = readdirSync(join(out, "slurm-sweep", "cells"));
        assert.deepEqual(cellFiles.filter((f) => !f.endsWith(".json")), [], "no claim or temporary file left");
        assert.equal(cellFiles.length, 12);

        // The merge, as the README says: the same command once more, unsharded; nothing is recomputed.
        const runtimeArgs = IS_DENO ? ["task", "experiment"] : ["run", "lib/experiment/cli.ts"];
        const merge = spawnSync(process.execPath, [...runtimeArgs, file, "--out", out], {
          cwd: REPO,
          encoding: "utf8",
        });
        assert.equal(merge.status, 0, merge.stderr);
        assert.match(merge.stdout, /slurm-sweep: 0 cells run, 12 already done, 0 failed, complete/);
        mark("merged");

        // A local unsharded run: the same tables, volatile columns aside.
        const local = join(dir, "local");
        const run = spawnSync(process.execPath, [...runtimeArgs, file, "--workers", "2", "--out", local], {
          cwd: REPO,
          encoding: "utf8",
        });
        assert.equal(run.status, 0, run.stderr);
        mark("local run");
        for (const table of ["summary.jsonl", "curves.jsonl", "gradient_flow.jsonl"]) {
          const [a, b] = [tableRows(join(out, "slurm-sweep"), table), tableRows(join(local, "slurm-sweep"), table)];
          assert.equal(a.length, b.length, table);
          assert.deepEqual(a, b, `${table}: the Slurm run differs from the local run`);
        }
        assert.equal(tableRows(join(out, "slurm-sweep"), "summary.jsonl").length, 12);
        const manifest = (d: string) => JSON.parse(readFileSync(join(d, "slurm-sweep", "manifest.json"), "utf8"));
        assert.deepEqual(manifest(out).cells, manifest(local).cells);
        assert.equal(manifest(out).complete, true);
      } finally {
        if (started) {
          spawnSync("scontrol", ["shutdown"], { env, timeout: 30_000 });
          spawnSync("munged", ["--stop", `--socket=${join(dir, "munge.socket")}`], { env, timeout: 30_000 });
          for (const pidFile of ["slurmctld.pid", "slurmd.pid", "munged.pid"]) {
            const pid = existsSync(join(dir, pidFile)) ? Number(readFileSync(join(dir, pidFile), "utf8")) : NaN;
            for (let i = 0; Number.isInteger(pid) && alive(pid) && i < 100; i++) await sleep(100);
            if (Number.isInteger(pid) && alive(pid)) process.kill(pid, "SIGKILL");
          }
        }
        mark("daemons stopped");
        console.log(`slurm_test (${IS_DENO ? "deno" : "bun"}): ${times.join(", ")}`);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function taskLogs(dir: string): string {
  return readdirSync(dir).filter((f) => /^task-\d+\.log$/.test(f)).map((f) =>
    `--- ${f}\n${readFileSync(join(dir, f), "utf8").slice(-2000)}`
  ).join("\n");
}
