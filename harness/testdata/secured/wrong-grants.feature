Feature: Claims about Kafka users that the grants contradict fail

  Background:
    Given the stand is up

  Scenario: The sink's user is said to write
    Then the "telegraf" user may write topic "lsst.sal.ATDome.position" at "summit"

  Scenario: The producer's user is said to be refused its own topics
    Then the "ts-salkafka" user may not write topic "lsst.sal.ATDome.position" at "summit"

  Scenario: The producer's user is said to read the replicas
    Then the "ts-salkafka" user may read topic "summit.registry-schemas" at "usdf"
