#!/bin/sh
# One node of the three-node Apache Kafka cluster of docker/compose.yaml, in KRaft combined
# mode (broker and controller in one process). Runs as the entrypoint of the official
# apache/kafka image instead of its own start script, so the whole configuration is here to
# read, and so the SCRAM users exist before the first client connects: they are written into
# the metadata log when the storage is formatted (KIP-900), which is also the only way the
# brokers can authenticate to each other over SASL at all.
#
# Listeners (ports inside the container; compose publishes EXTERNAL as EXTERNAL_PORT):
#   INTERNAL   SASL_SSL 9092  the hub, the jobs and the brokers among themselves
#   EXTERNAL   SASL_SSL 9094  partners, published on the host (advertised as EXTERNAL_HOST)
#   CONTROLLER SSL      9093  the KRaft quorum, mutual TLS (SCRAM cannot serve controllers)
#
# Environment: NODE_ID (1-3), CLUSTER_ID, EXTERNAL_HOST, EXTERNAL_PORT.
# Secrets (/run/secrets): kafka_admin_password, kafka_keystore_password and one
# <user>_kafka_password per SCRAM user (hub, lahti, ph, kela, sote, keha, ...).
#
# Everything else has the value compose needs and can be overridden, so that the tests run
# this same script on one machine against Kafka's pinned jars (tests/security/): the host the
# node advertises on INTERNAL (NODE_HOST), the address it binds to (LISTEN_HOST, empty: every
# interface), the three listener ports, the quorum (QUORUM_VOTERS) and the folders SECRETS,
# CERTS, CONFIG_DIR, DATA_DIR and KAFKA_HOME (where bin/kafka-storage.sh and
# bin/kafka-server-start.sh are).
set -eu

: "${NODE_ID:?NODE_ID is required}"
: "${CLUSTER_ID:?CLUSTER_ID is required}"
: "${EXTERNAL_HOST:?EXTERNAL_HOST is required}"
: "${EXTERNAL_PORT:?EXTERNAL_PORT is required}"

NAME="kafka-${NODE_ID}"
NODE_HOST=${NODE_HOST:-$NAME}
LISTEN_HOST=${LISTEN_HOST:-}
INTERNAL_PORT=${INTERNAL_PORT:-9092}
CONTROLLER_PORT=${CONTROLLER_PORT:-9093}
EXTERNAL_LISTEN_PORT=${EXTERNAL_LISTEN_PORT:-9094}
QUORUM_VOTERS=${QUORUM_VOTERS:-1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093}
SECRETS=${SECRETS:-/run/secrets}
CERTS=${CERTS:-/etc/kafka/certs}
CONFIG_DIR=${CONFIG_DIR:-/etc/kafka}
DATA_DIR=${DATA_DIR:-/var/lib/kafka/data}
KAFKA_HOME=${KAFKA_HOME:-/opt/kafka}
CONFIG="$CONFIG_DIR/server.properties"

read_secret() {
    # Passwords go into properties and the --add-scram syntax: keep them to [A-Za-z0-9].
    value=$(tr -d '\r\n' < "$SECRETS/$1")
    case "$value" in
        "" | *[!A-Za-z0-9]*)
            echo "$SECRETS/$1 must hold letters and digits only (docker/secrets/README.md)" >&2
            exit 2 ;;
    esac
    printf '%s' "$value"
}

umask 077
ADMIN_PASSWORD=$(read_secret kafka_admin_password)
STORE_PASSWORD=$(read_secret kafka_keystore_password)

cat > "$CONFIG" <<PROPERTIES
process.roles=broker,controller
node.id=${NODE_ID}
controller.quorum.voters=${QUORUM_VOTERS}
controller.listener.names=CONTROLLER
listeners=INTERNAL://${LISTEN_HOST}:${INTERNAL_PORT},CONTROLLER://${LISTEN_HOST}:${CONTROLLER_PORT},EXTERNAL://${LISTEN_HOST}:${EXTERNAL_LISTEN_PORT}
advertised.listeners=INTERNAL://${NODE_HOST}:${INTERNAL_PORT},EXTERNAL://${EXTERNAL_HOST}:${EXTERNAL_PORT}
listener.security.protocol.map=INTERNAL:SASL_SSL,EXTERNAL:SASL_SSL,CONTROLLER:SSL
inter.broker.listener.name=INTERNAL
log.dirs=${DATA_DIR}

sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${ADMIN_PASSWORD}";
listener.name.external.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;

ssl.keystore.type=PKCS12
ssl.keystore.location=${CERTS}/${NAME}.p12
ssl.keystore.password=${STORE_PASSWORD}
ssl.key.password=${STORE_PASSWORD}
ssl.truststore.type=PKCS12
ssl.truststore.location=${CERTS}/truststore.p12
ssl.truststore.password=${STORE_PASSWORD}
listener.name.controller.ssl.client.auth=required
# Controllers authenticate by certificate: CN=kafka-1 becomes User:kafka-1.
ssl.principal.mapping.rules=RULE:^CN=([A-Za-z0-9.-]+).*$/\$1/,DEFAULT

authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:kafka-1;User:kafka-2;User:kafka-3

auto.create.topics.enable=false
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
PROPERTIES

# The admin's client settings, for the health check and for kafka-acls.sh, kafka-configs.sh
# and the other tools inside the container (docker/README.md).
cat > "$CONFIG_DIR/admin.properties" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${ADMIN_PASSWORD}";
ssl.truststore.type=PKCS12
ssl.truststore.location=${CERTS}/truststore.p12
ssl.truststore.password=${STORE_PASSWORD}
PROPERTIES

# Every <user>_kafka_password secret becomes a SCRAM-SHA-512 user, admin included.
set -- --add-scram "SCRAM-SHA-512=[name=admin,password=${ADMIN_PASSWORD}]"
for file in "$SECRETS"/*_kafka_password; do
    [ -e "$file" ] || continue
    user=$(basename "$file" _kafka_password)
    password=$(read_secret "$(basename "$file")")
    set -- "$@" --add-scram "SCRAM-SHA-512=[name=${user},password=${password}]"
done

# --ignore-formatted: on a restart the users are already in the metadata log; later changes
# go through kafka-configs.sh (see docker/README.md, "Rotating a SASL password").
# The tool prints the bootstrap records on standard output, every user's SCRAM salt and keys
# among them: not for the container's log. Its errors go to standard error.
"$KAFKA_HOME/bin/kafka-storage.sh" format --ignore-formatted \
    --cluster-id "$CLUSTER_ID" --config "$CONFIG" "$@" > /dev/null

exec "$KAFKA_HOME/bin/kafka-server-start.sh" "$CONFIG"
