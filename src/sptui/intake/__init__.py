"""Alarm intake: ESMPRO/ServerAgent alarm mails into the desk's store."""
