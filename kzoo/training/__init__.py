"""Training beyond one process: `tf.distribute` strategies, local workers and backups that survive a kill."""

from kzoo.training.backup import BackupAndRestore, resume_data_order
from kzoo.training.distribute import (
    STRATEGIES,
    DistributedTrainStep,
    is_chief,
    local_cpu_replicas,
    make_strategy,
    num_replicas,
    replica_sum,
    shard_by_data,
    token_mean,
)
from kzoo.training.workers import cluster_config, free_ports, run_workers

__all__ = [
    "BackupAndRestore",
    "STRATEGIES",
    "DistributedTrainStep",
    "is_chief",
    "local_cpu_replicas",
    "make_strategy",
    "num_replicas",
    "replica_sum",
    "shard_by_data",
    "token_mean",
    "cluster_config",
    "free_ports",
    "resume_data_order",
    "run_workers",
]
