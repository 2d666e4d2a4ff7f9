@stand:three-brokers @broker-faults
Feature: A summit broker dies mid-stream
  Production's summit Kafka has three brokers; every SAL topic has three
  replicas, min.insync.replicas 2, and the producer waits for all in-sync
  replicas. When one broker dies its partitions elect new leaders and the
  producer, the replication and the sink carry on: nothing is lost. With
  two down, no write can be acknowledged and nothing gets through until one
  is back; then everything does, once.

  Background:
    Given the stand is up

  Scenario: One broker of three killed and restarted mid-stream loses nothing
    When Test:1 publishes "scalars" at 20 Hz for 12 s on domain 0 in the background
    And 3 s pass
    And broker 2 of "summit" is killed
    And 4 s pass
    And broker 2 of "summit" is restarted
    Then every sample of Test:1 "scalars" is in topic "lsst.sal.Test.scalars" at "summit" exactly once within 60 s
    And every sample of Test:1 "scalars" is in database "efd" at "usdf" exactly once within 60 s

  Scenario: Two brokers down stop every write until one is back, then nothing is lost
    Given broker 1 of "summit" is killed
    And broker 3 of "summit" is killed
    When ATDome publishes "position" at 10 Hz for 2 s on domain 0
    Then ATDome "position" is reported as "not delivered" in database "efd" at "usdf" after 5 s
    When broker 1 of "summit" is restarted
    And broker 3 of "summit" is restarted
    Then every sample of ATDome "position" is in database "efd" at "usdf" exactly once within 90 s
