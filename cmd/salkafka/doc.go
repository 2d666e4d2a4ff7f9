// Command salkafka forwards SAL samples from a DDS domain to Kafka. It
// takes ts_salkafka's command line (run_salkafka_producer.py), including
// the environment variables its deployment passes:
//
//	salkafka --broker $BROKER_IP:$BROKER_PORT --registry $REGISTRY_ADDR \
//	  --partitions $PARTITIONS --loglevel $LOG_LEVEL --replication-factor $REPLICATION \
//	  --wait-ack $WAIT_ACK $CSC_LIST
package main
