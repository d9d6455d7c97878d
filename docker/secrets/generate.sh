#!/bin/sh
# Random secrets for docker/compose.yaml: one file per secret in this folder, and docker/.env
# with the values compose needs as variables. Never overwrites an existing file, so running it
# again only fills in what is missing (e.g. after adding a partner). Letters and digits only:
# the Kafka passwords go into properties files and kafka-storage's --add-scram syntax.
#
# Usage: sh docker/secrets/generate.sh [partner ...]   (default partners: lahti ph kela sote keha)
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ENV_FILE="$HERE/../.env"
PARTNERS=${*:-"lahti ph kela sote keha"}

random_hex() {
    od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

write_secret() {
    if [ -e "$HERE/$1" ]; then
        echo "kept     $1"
    else
        random_hex "$2" > "$HERE/$1"
        # Bind-mounted into containers running as other users (Kafka 1000, hub 10001):
        # readable files in a folder only the owner can enter.
        chmod 644 "$HERE/$1"
        echo "created  $1"
    fi
}

chmod 700 "$HERE"
write_secret kafka_admin_password 24
write_secret kafka_keystore_password 24
write_secret hub_kafka_password 24
for partner in $PARTNERS; do
    write_secret "${partner}_kafka_password" 24
done
write_secret pseudonym_secret 32
write_secret postgres_password 24

# The Ed25519 key that signs audit checkpoints (docs/audit.md), and its public half for the
# auditors. Needs openssl on this machine.
if [ -e "$HERE/audit_signing_key" ]; then
    echo "kept     audit_signing_key"
else
    openssl genpkey -algorithm ed25519 -out "$HERE/audit_signing_key"
    openssl pkey -in "$HERE/audit_signing_key" -pubout -out "$HERE/audit_signing_key.pub"
    chmod 644 "$HERE/audit_signing_key" "$HERE/audit_signing_key.pub"
    echo "created  audit_signing_key (public half: audit_signing_key.pub, for the auditors)"
fi

if [ ! -e "$ENV_FILE" ]; then
    # A Kafka cluster id is 16 random bytes in URL-safe base64 without padding (22 characters).
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    {
        echo "# Written by docker/secrets/generate.sh; see docker/README.md."
        echo "KAFKA_CLUSTER_ID=$cluster_id"
        echo "KAFKA_EXTERNAL_HOST=localhost"
        echo "POSTGRES_HUB_PASSWORD=$(cat "$HERE/postgres_password")"
    } > "$ENV_FILE"
    chmod 600 "$ENV_FILE"
    echo "created  ../.env"
fi
