@stand:secured
Feature: Each component may do what its Kafka user grants, and no more
  On the secured stand every component authenticates as the KafkaUser
  Sasquatch gives its kind. The sink's user (telegraf) reads every topic
  and writes none; the producer's (ts-salkafka) reads and writes the
  lsst.sal topics only; no client gets in without credentials.

  Background:
    Given the stand is up

  Scenario: Users are held to their grants
    When ATDome publishes "position" at 10 Hz for 1 s on domain 0
    Then every sample of ATDome "position" is in database "efd" at "usdf" exactly once within 20 s
    And the "telegraf" user may read topic "summit.lsst.sal.ATDome.position" at "usdf"
    And the "telegraf" user may not write topic "summit.lsst.sal.ATDome.position" at "usdf"
    And the "ts-salkafka" user may read topic "lsst.sal.ATDome.position" at "summit"
    And the "ts-salkafka" user may not read topic "summit.lsst.sal.ATDome.position" at "usdf"
    And the "ts-salkafka" user may not write topic "registry-schemas" at "summit"
    And the "replicator" user may write topic "summit.lsst.sal.ATDome.position" at "usdf"
    And a client without credentials is refused at "summit"
    And a client without credentials is refused at "usdf"
