"""A stand-in for Slurm's ``srun`` on a machine without Slurm: starts ``--ntasks`` copies of
the command with the variables ``srun`` sets for each task (``SLURM_PROCID``, ``SLURM_NTASKS``,
``SLURM_LOCALID``, ``SLURM_NODELIST``, ``SLURM_JOB_ID``), forwards SIGTERM / SIGINT to every
task as ``srun`` does, and exits with the largest task status, as ``srun`` reports a step.
Every task runs on this host ("node"); ``FAKE_SRUN_TASKS_PER_NODE`` (default: all) sets how
many share a local rank numbering. Other options (partition, gres, ...) are accepted and
ignored."""
import os
import signal
import subprocess
import sys


def main(argv):
    tasks, index = 1, 0
    while index < len(argv) and argv[index].startswith('-'):
        option = argv[index]
        if option.startswith('--ntasks='):
            tasks = int(option.split('=', 1)[1])
        elif option in ('-p', '-n', '--ntasks', '-J'):
            tasks = int(argv[index + 1]) if option in ('-n', '--ntasks') else tasks
            index += 1
        index += 1
    command = argv[index:]
    per_node = int(os.environ.get('FAKE_SRUN_TASKS_PER_NODE', tasks))
    children = []
    for rank in range(tasks):
        env = dict(os.environ, SLURM_PROCID=str(rank), SLURM_NTASKS=str(tasks),
                   SLURM_LOCALID=str(rank % per_node), SLURM_NODELIST='localhost',
                   SLURM_JOB_ID=os.environ.get('SLURM_JOB_ID', '4242'))
        children.append(subprocess.Popen(command, env=env))

    def forward(number, frame):
        for child in children:
            if child.poll() is None:
                child.send_signal(number)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return max(child.wait() for child in children)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
