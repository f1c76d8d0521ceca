# Numbers as Chinese official statistics print them: 12,400 (groups of three with a comma).
# Django's own zh_Hans formats group nothing, so officials' figures ran together (177954).
# Every other format comes from Django's zh_Hans.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
