"""The alert process (README: Alerts): its command line, where it keeps its
state and counters, and the check of the rules file before anything starts,
so a bad file is one error naming the line rather than an appliance running
half a rule set (`servertrack-alert --check-rules`, as the ingest worker's
--check-tokens).
"""
import os
import socket
import subprocess

from servertrack.programs import program


def state_path(data_dir, segment):
    """The alerts (GET /alerts), kept across restarts: written by rename."""
    return os.path.join(data_dir, f"{segment}-alerts.json")


def metrics_path(data_dir, segment):
    return os.path.join(data_dir, f"{segment}-alerts.prom")


def receiver_options(options):
    argv = []
    if options.alertmanager_url:
        argv += ["--alertmanager-url", options.alertmanager_url]
    if options.alert_webhook_url:
        argv += ["--webhook-url", options.alert_webhook_url]
    return argv


def unusable_alert_options(options):
    """Why the alert options cannot work, or None (nothing asked is nothing wrong)."""
    if not options.alert_rules:
        if options.alertmanager_url or options.alert_webhook_url:
            return "--alertmanager-url and --alert-webhook-url need --alert-rules FILE (README: Alerts)"
        return None
    check = subprocess.run([program(options.build_dir, "alert"), "--check-rules", "--rules", options.alert_rules,
                            *receiver_options(options)],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True, timeout=30)
    if check.returncode == 0:
        return None
    return "--alert-rules: " + (check.stderr.strip() or f"refused (status {check.returncode})")


def worker_options(options):
    """What the query workers add: /alerts from the state, the counters in /metrics."""
    if not options.alert_rules:
        return {"query": [], "ingest": []}
    counters = ["--metrics-textfile", metrics_path(options.data_dir, options.segment)]
    return {"query": ["--alerts-file", state_path(options.data_dir, options.segment), *counters],
            "ingest": counters}


def alert_commands(options, dashboard_url):
    """[(name, argv)]: the one alert process, when rules are given."""
    if not options.alert_rules:
        return []
    return [("alert#1", [program(options.build_dir, "alert"), "--segment", options.segment,
                         "--rules", options.alert_rules,
                         "--state-file", state_path(options.data_dir, options.segment),
                         "--metrics-file", metrics_path(options.data_dir, options.segment),
                         "--appliance", options.appliance_name or socket.gethostname(),
                         "--dashboard-url", dashboard_url, *receiver_options(options)])]


def add_options(parser):
    parser.add_argument("--alert-rules", metavar="FILE", type=os.path.abspath,
                        help="run the alert process with the rules of FILE (README: Alerts; "
                             "e.g. deploy/alerts/rules.ini); default: no alerts")
    parser.add_argument("--alertmanager-url", metavar="URL",
                        help="an Alertmanager, e.g. http://127.0.0.1:9093: firing alerts are sent to its "
                             "/api/v2/alerts every minute")
    parser.add_argument("--alert-webhook-url", metavar="URL",
                        help="a URL that gets one POST per alert change, in Alertmanager's webhook shape")
    parser.add_argument("--appliance-name", metavar="NAME",
                        help="the `appliance` label of every alert (default: the host name)")
