@stand:summit-loaded
Feature: Delivery under the summit's nominal load, over a WAN link
  While every telemetry topic of the summit's CSCs is written at its
  nominal rate and the link to the USDF adds 100 ms to each round trip, a scenario's own
  samples still arrive exactly once and in time.

  Background:
    Given the stand is up

  Scenario: ATDome position reaches the EFD exactly once under nominal load
    When ATDome publishes "position" at 10 Hz for 3 s on domain 0
    Then every sample of ATDome "position" is in database "efd" at "usdf" exactly once within 20 s
    And end-to-end latency p99 of ATDome "position" is below 2 s
    And latency p50 of ATDome "position" to "→kafka@usdf" is above 50 ms
    And the lag of the sink "usdf-efd" drains within 20 s
