#!/bin/sh
# Certificates for the Kafka cluster of docker/compose.yaml, made with keytool alone (the JRE
# of the apache/kafka image has no openssl): a private CA, one key pair per node signed by it,
# a PKCS#12 truststore for the brokers and the CA certificate as PEM for the hub and partners.
#
# Idempotent: does nothing when OUT already holds ca.pem. Delete the volume (or the folder) to
# start over; see docker/certs/README.md for rotation and for using your organisation's CA.
#
# Environment: OUT (default /certs), EXTERNAL_HOST (the host name partners connect to),
# NODES (default "kafka-1 kafka-2 kafka-3"), DAYS (default 397), and the keystore password in
# /run/secrets/kafka_keystore_password (or STORE_PASSWORD_FILE).
set -eu

OUT=${OUT:-/certs}
NODES=${NODES:-"kafka-1 kafka-2 kafka-3"}
DAYS=${DAYS:-397}
EXTERNAL_HOST=${EXTERNAL_HOST:-localhost}
STORE_PASSWORD_FILE=${STORE_PASSWORD_FILE:-/run/secrets/kafka_keystore_password}
PASS=$(tr -d '\r\n' < "$STORE_PASSWORD_FILE")

if [ -f "$OUT/ca.pem" ]; then
    echo "certificates exist in $OUT: nothing to do"
    exit 0
fi
mkdir -p "$OUT/private"
chmod 700 "$OUT/private"
CA="$OUT/private/ca.p12"

keytool -genkeypair -alias ca -dname "CN=paijathame-hub Kafka CA" -keyalg RSA -keysize 3072 \
    -validity $((DAYS * 3)) -ext bc:c -keystore "$CA" -storetype PKCS12 -storepass "$PASS"
keytool -exportcert -rfc -alias ca -keystore "$CA" -storepass "$PASS" -file "$OUT/ca.pem"
keytool -importcert -noprompt -alias ca -file "$OUT/ca.pem" \
    -keystore "$OUT/truststore.p12" -storetype PKCS12 -storepass "$PASS"

for node in $NODES; do
    store="$OUT/$node.p12"
    keytool -genkeypair -alias "$node" -dname "CN=$node" -keyalg RSA -keysize 2048 \
        -validity "$DAYS" -keystore "$store" -storetype PKCS12 -storepass "$PASS"
    keytool -certreq -alias "$node" -keystore "$store" -storepass "$PASS" -file "$OUT/$node.csr"
    # serverAuth for clients, clientAuth for the mutual TLS of the controller quorum.
    keytool -gencert -rfc -alias ca -keystore "$CA" -storepass "$PASS" -validity "$DAYS" \
        -infile "$OUT/$node.csr" -outfile "$OUT/$node.pem" \
        -ext "SAN=dns:$node,dns:$EXTERNAL_HOST,dns:localhost" -ext "EKU=serverAuth,clientAuth"
    keytool -importcert -noprompt -alias ca -file "$OUT/ca.pem" -keystore "$store" \
        -storepass "$PASS"
    keytool -importcert -noprompt -alias "$node" -file "$OUT/$node.pem" -keystore "$store" \
        -storepass "$PASS"
    rm "$OUT/$node.csr"
done

# Brokers run as appuser (uid 1000 in the apache/kafka image), the hub as uid 10001: the
# nodes' key stores readable by the brokers only, certificates and truststore by everyone.
chmod 600 "$CA" "$OUT"/kafka-*.p12
chmod 644 "$OUT/ca.pem" "$OUT/truststore.p12" "$OUT"/kafka-*.pem
if id appuser >/dev/null 2>&1; then
    chown appuser "$OUT"/kafka-*.p12
fi
echo "certificates written to $OUT (CA key: $CA, keep it offline in production)"
