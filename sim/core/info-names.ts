/**
 * Every INFO field name sim/core/info.ts can print (loading_* from sim/core/loading.ts
 * loadingInfoLines), by section, in the order genRedisInfoString() prints them. A plain list, so
 * the scenario parser can refuse a misspelt field (`connected_replicas`) without building a node
 * and without loading the simulator. test/info.test.ts reads info.ts and loading.ts and checks
 * that this list holds exactly the names they print, so it cannot drift from the code.
 * Families with a number in the name (`slave0`, `db3`) are matched by pattern by the parser.
 */
export const INFO_FIELD_NAMES_BY_SECTION = {
  server: [
    'redis_version', 'redis_git_sha1', 'redis_git_dirty', 'redis_build_id', 'redis_mode', 'os', 'arch_bits',
    'monotonic_clock', 'multiplexing_api', 'atomicvar_api', 'gcc_version', 'process_id', 'process_supervised',
    'run_id', 'tcp_port', 'server_time_usec', 'uptime_in_seconds', 'uptime_in_days', 'hz', 'configured_hz',
    'lru_clock', 'executable', 'config_file', 'io_threads_active', 'shutdown_in_milliseconds',
  ],
  clients: [
    'connected_clients', 'cluster_connections', 'maxclients', 'client_recent_max_input_buffer',
    'client_recent_max_output_buffer', 'blocked_clients', 'tracking_clients', 'clients_in_timeout_table',
  ],
  persistence: [
    'loading', 'async_loading', 'current_cow_peak', 'current_cow_size', 'current_cow_size_age',
    'current_fork_perc', 'current_save_keys_processed', 'current_save_keys_total',
    'rdb_changes_since_last_save', 'rdb_bgsave_in_progress', 'rdb_last_save_time', 'rdb_last_bgsave_status',
    'rdb_last_bgsave_time_sec', 'rdb_current_bgsave_time_sec', 'rdb_saves', 'rdb_last_cow_size',
    'rdb_last_load_keys_expired', 'rdb_last_load_keys_loaded', 'aof_enabled', 'aof_rewrite_in_progress',
    'aof_rewrite_scheduled', 'aof_last_rewrite_time_sec', 'aof_current_rewrite_time_sec',
    'aof_last_bgrewrite_status', 'aof_rewrites', 'aof_rewrites_consecutive_failures', 'aof_last_write_status',
    'aof_last_cow_size', 'module_fork_in_progress', 'module_fork_last_cow_size', 'aof_current_size',
    'aof_base_size', 'aof_pending_rewrite', 'aof_buffer_length', 'aof_pending_bio_fsync', 'aof_delayed_fsync',
    'loading_start_time', 'loading_total_bytes', 'loading_rdb_used_mem', 'loading_loaded_bytes',
    'loading_loaded_perc', 'loading_eta_seconds',
  ],
  stats: [
    'total_connections_received', 'total_commands_processed', 'instantaneous_ops_per_sec',
    'total_net_input_bytes', 'total_net_output_bytes', 'total_net_repl_input_bytes',
    'total_net_repl_output_bytes', 'instantaneous_input_kbps', 'instantaneous_output_kbps',
    'instantaneous_input_repl_kbps', 'instantaneous_output_repl_kbps', 'rejected_connections', 'sync_full',
    'sync_partial_ok', 'sync_partial_err', 'expired_keys', 'expired_stale_perc',
    'expired_time_cap_reached_count', 'expire_cycle_cpu_milliseconds', 'evicted_keys', 'evicted_clients',
    'total_eviction_exceeded_time', 'current_eviction_exceeded_time', 'keyspace_hits', 'keyspace_misses',
    'pubsub_channels', 'pubsub_patterns', 'pubsubshard_channels', 'latest_fork_usec', 'total_forks',
    'migrate_cached_sockets', 'slave_expires_tracked_keys', 'active_defrag_hits', 'active_defrag_misses',
    'active_defrag_key_hits', 'active_defrag_key_misses', 'total_active_defrag_time',
    'current_active_defrag_time', 'tracking_total_keys', 'tracking_total_items', 'tracking_total_prefixes',
    'unexpected_error_replies', 'total_error_replies', 'dump_payload_sanitizations', 'total_reads_processed',
    'total_writes_processed', 'io_threaded_reads_processed', 'io_threaded_writes_processed',
    'reply_buffer_shrinks', 'reply_buffer_expands',
  ],
  replication: [
    'role', 'master_host', 'master_port', 'master_link_status', 'master_last_io_seconds_ago',
    'master_sync_in_progress', 'slave_read_repl_offset', 'slave_repl_offset', 'master_sync_total_bytes',
    'master_sync_read_bytes', 'master_sync_left_bytes', 'master_sync_perc', 'master_sync_last_io_seconds_ago',
    'master_link_down_since_seconds', 'slave_priority', 'slave_read_only', 'replica_announced',
    'connected_slaves', 'min_slaves_good_slaves', 'master_failover_state', 'master_replid', 'master_replid2',
    'master_repl_offset', 'second_repl_offset', 'repl_backlog_active', 'repl_backlog_size',
    'repl_backlog_first_byte_offset', 'repl_backlog_histlen',
  ],
} as const satisfies Record<string, readonly string[]>;

/** Every name above, as one set. */
export const INFO_FIELD_NAMES: ReadonlySet<string> = new Set(Object.values(INFO_FIELD_NAMES_BY_SECTION).flat());
