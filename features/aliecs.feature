@stand:non-sal
Feature: AliECS-style protobuf events and topic auto-creation
  AliECS publishes protobuf events to topics such as aliecs.run, and its
  documentation admits that with broker topic auto-creation the first
  message to a new topic is lost: the broker answers the request that
  creates the topic with LEADER_NOT_AVAILABLE, and a producer that writes
  once drops it. Publishers that create their topics first lose nothing;
  the harness reads each topic with no consumer group and accounts for
  every event by publisher and sequence.

  Scenario: A publisher that creates its topics loses no first event
    When 10 AliECS run events are published to topic "aliecs.run" at "ecs"
    And 5 AliECS environment events are published to topic "aliecs.environment" at "ecs"
    Then the AliECS events to topic "aliecs.run" at "ecs" are reported as "delivered exactly once" within 10 s
    And the AliECS events to topic "aliecs.environment" at "ecs" are reported as "delivered exactly once" within 10 s

  Scenario: Relying on auto-creation loses the first event, and the harness says so
    When 10 AliECS run events are published to topic "aliecs.run.auto" at "ecs" relying on auto-creation
    Then the AliECS events to topic "aliecs.run.auto" at "ecs" are reported as "first event lost" within 10 s
