from django.contrib import admin

from kyphos.scheduling.models import Holiday, Room, Site


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


class RoomInline(admin.TabularInline):
    model = Room
    extra = 1


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "time_zone", "phone", "active")
    inlines = [RoomInline, HolidayInline]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("site", "date", "name")
    list_filter = ("site",)


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("site", "name", "active")
